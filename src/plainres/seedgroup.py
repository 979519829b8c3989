"""A seed group: K nets of one architecture that differ only in their seeds, their parameters stacked
(torch.func), trained and evaluated as one. K > 1 runs under vmap, which lowers each conv to one grouped
convolution, each model reading its own minibatch; SGD with momentum is elementwise, so one group step is K
single-run steps (step.Step).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from .init import initialise
from .minibatches import DeviceData
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

    def inference(self, channels_last: bool):
        """The forward of evaluation, x (B×…, shared) → logits K×B×classes; with `channels_last` the images go
        in that layout, and one model's weights are copied once into it (which oneDNN runs fastest on a CPU)."""
        if not channels_last:
            return lambda x: self.forward(x, shared_input=True)
        layout = torch.channels_last
        if self.k > 1:
            return lambda x: self.forward(x.contiguous(memory_format=layout), shared_input=True)
        p = {
            n: v[0].detach().contiguous(memory_format=layout) if v.dim() == 5 else v[0].detach()
            for n, v in self.params.items()
        }
        b = {n: v[0] for n, v in self.buffers.items()}
        return lambda x: self._call(p, b, x.contiguous(memory_format=layout))[None]

    def penalty(self) -> torch.Tensor:
        """Per model: ‖w‖² over all weights, or ‖T⁻¹(p)‖² with anchors ρ (YT §4.1)."""
        return squared_distance({n: self.params[n] for n in self.weight_names}, self.anchors, stacked=True)

    def train(self, mode: bool = True):
        self.base.train(mode)

    def state_of(self, k: int) -> dict[str, torch.Tensor]:
        """Model k's state dict, as a standalone module would have it."""
        return {n: v[k].detach().clone() for n, v in (*self.params.items(), *self.buffers.items())}


def evaluate(
    group: SeedGroup, dd: DeviceData, x_all: torch.Tensor, y_all: torch.Tensor, batch_size: int, autocast
) -> tuple[list[float], list[float]]:
    """Each model's mean cross-entropy and error over the un-augmented images x_all (uint8), in eval mode.
    In channels_last when the group trains in it, and on a CPU for one float32 model (bench/bench_eval.py)."""
    k, dev = group.k, x_all.device
    group.train(False)
    forward = group.inference(
        channels_last=group.channels_last or (dev.type == "cpu" and dd.dtype == torch.float32 and k == 1)
    )
    loss_sum = torch.zeros(k, dtype=torch.float64, device=dev)
    wrong = torch.zeros(k, dtype=torch.int64, device=dev)
    with torch.no_grad(), autocast:
        for i in range(0, len(y_all), batch_size):
            x, y = dd.normalise(x_all[i : i + batch_size]), y_all[i : i + batch_size]
            logits = forward(x).to(dd.dtype)
            loss_sum += F.cross_entropy(logits.flatten(0, 1), y.repeat(k), reduction="none").view(k, -1).sum(1).double()
            wrong += (logits.argmax(-1) != y).sum(1)
    group.train(True)
    return (loss_sum / len(y_all)).tolist(), (wrong.double() / len(y_all)).tolist()
