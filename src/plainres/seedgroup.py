"""A seed group: K nets of one architecture that differ only in their seeds, their parameters stacked
(torch.func), trained and evaluated as one. K > 1 runs under vmap, which lowers each conv to one grouped
convolution, each model reading its own minibatch; SGD with momentum is elementwise, so one group step is K
single-run steps (step.Step).
"""

from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap

from .init import initialise
from .models import build_model
from .runs import INITS, Run
from .step import nhwc
from .transfer import rho, squared_distance, transfer_to_plain, weights


def make_model(run: Run, num_classes: int = 10, dtype: torch.dtype = torch.float32) -> torch.nn.Module:
    """Build and initialise one run's net: drawn (and transferred) in float64, then cast to `dtype`,
    so a seed gives the same init in every dtype and t₀ = T(r₀) carries no float32 rounding."""
    if run.init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {run.init!r}")
    if run.init == "t-hmwi":
        if run.net != "plain":
            raise ValueError("init 't-hmwi' (t₀ = T(r₀)) is for plain nets")
        r0 = build_model(run.arch, "residual", run.depth, num_classes).double()
        model = transfer_to_plain(initialise(r0, "hmwi", run.seed))
    else:
        model = initialise(build_model(run.arch, run.net, run.depth, num_classes).double(), run.init, run.seed)
    return model.to(dtype)


class SeedGroup:
    """K models of one architecture with stacked parameters, trained as one."""

    def __init__(self, models: list[torch.nn.Module], decay_on_T_inverse: bool, channels_last: bool = False):
        self.k, self.channels_last = len(models), channels_last
        self.base = copy.deepcopy(models[0]).to("meta")
        self.params, self.buffers = stack_module_state(models)
        if channels_last:  # each model's conv weight O×I×H×W with NHWC strides, as oneDNN and cuDNN prefer
            self.params = {
                n: nhwc(v).detach().requires_grad_(v.requires_grad) if v.dim() == 5 else v
                for n, v in self.params.items()
            }
        self.weight_names = [name for name, _ in weights(models[0])]
        anchors = rho(models[0]) if decay_on_T_inverse else {}
        self.anchors = {n: a.to(self.params[n]) for n, a in anchors.items()}

    def _call(self, p, b, x):
        return functional_call(self.base, (p, b), (x,))

    def forward(self, x: torch.Tensor, shared_input: bool = False) -> torch.Tensor:
        """Logits K×B×classes; x is K×B×… (each model its own batch) or B×… when shared."""
        return self.forward_with(self.params, self.buffers, x, shared_input)

    def forward_with(self, params: dict, buffers: dict, x: torch.Tensor, shared_input: bool = False) -> torch.Tensor:
        """`forward` with these stacked parameters and buffers (what torch.func.grad differentiates)."""
        if self.k == 1:
            p = {n: v[0] for n, v in params.items()}
            b = {n: v[0] for n, v in buffers.items()}
            return self._call(p, b, x if shared_input else x[0])[None]
        return vmap(self._call, in_dims=(0, 0, None if shared_input else 0))(params, buffers, x)

    def inference(self, channels_last: bool, copy_weights: bool = False):
        """The forward of evaluation, x (B×…, shared) → logits K×B×classes; with `channels_last` the images go in
        that layout. With `copy_weights` (one model), its weights are copied once into channels_last too, which
        oneDNN runs fastest on a CPU; otherwise the live weights are read (what a compiled evaluation captures)."""
        layout = torch.channels_last
        if copy_weights:
            if self.k != 1:
                raise ValueError("a copy of the weights is for one model")
            p = {
                n: v[0].detach().contiguous(memory_format=layout) if v.dim() == 5 else v[0].detach()
                for n, v in self.params.items()
            }
            b = {n: v[0] for n, v in self.buffers.items()}
            return lambda x: self._call(p, b, x.contiguous(memory_format=layout))[None]
        if not channels_last:
            return lambda x: self.forward(x, shared_input=True)
        return lambda x: self.forward(x.contiguous(memory_format=layout), shared_input=True)

    def penalty(self) -> torch.Tensor:
        """Per model: ‖w‖² over all weights, or ‖T⁻¹(p)‖² with anchors ρ (YT §4.1)."""
        return squared_distance({n: self.params[n] for n in self.weight_names}, self.anchors, stacked=True)

    def train(self, mode: bool = True):
        self.base.train(mode)

    def state_of(self, k: int) -> dict[str, torch.Tensor]:
        """Model k's state dict, as a standalone module would have it."""
        return {n: v[k].detach().clone() for n, v in (*self.params.items(), *self.buffers.items())}
