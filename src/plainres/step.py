"""One SGD step of a seed group as one function of tensors, so that torch.compile can capture it whole: the
minibatch's gather, crop and flip, the forward, the loss, its gradient, the weight decay and the momentum
update, the last two as fused `_foreach` ops on the stacked parameters.

    g ← ∇ Σ_k L_k,   g_w ← g_w + λ·(w − ρ_w),   buf ← m·buf + g,   θ ← θ − lr·buf

ρ_w is 0, or the ID entries for the decay on T⁻¹(p) (YT §4.1); the decay is the gradient of (λ/2)·‖w − ρ‖²,
computed as autograd computed it (λ·(w − ρ), then added), so the eager step is bit for bit the step of the
loss-plus-penalty form. Momentum buffers start at 0, so the first step's buf is g exactly (torch.optim.SGD).

`compile` (TrainConfig): `auto` compiles on CUDA (CUDA graphs: `mode="reduce-overhead"`) and not on a CPU, where
the compiled step ran 1.1× the eager one but its compile took ~40 s, longer than a CPU-scale job trains
(bench/bench_train.py --cases fp32 fp32+compiled; docs/engine.md, Throughput); `on` compiles anywhere; `off` never.
With `compile: auto`, a step that cannot be compiled (a failure while dynamo traces it or the backend compiles
it, before any tensor is changed) trains on eagerly, with one warning; with `compile: on` that is an error. Any
other failure of the step stops the job (the engine names the step and the epoch): it is never retried, so a
step is never applied twice and a CUDA error is never run over. Static shapes: a full minibatch and the
epoch's last, shorter one are two graphs. lr enters the compiled graph as a 0-d tensor, updated in place: dynamo
specialises a Python float, which would compile a graph per lr, a recompile at every milestone.
"""

from __future__ import annotations

import functools
import warnings

import torch
import torch.nn.functional as F
from torch.func import grad

from .minibatches import minibatch


def compiles(mode: str, device: torch.device) -> bool:
    """Whether `compile: mode` (TrainConfig: auto, on, off) compiles on `device`."""
    return mode == "on" or (mode == "auto" and device.type == "cuda")


def in_channels_last(mode: str, device: torch.device, dtype: torch.dtype) -> bool:
    """Whether `channels_last: mode` (TrainConfig: auto, on, off) trains in NHWC strides: `auto` where it was
    measured faster, float32 on a CPU (oneDNN: 1.37× one simplified net, 1.28× a group of 4, 1.4× a BN net; in
    float64 0.76×; bench/bench_train.py `+cl`); on a GPU `auto` stays NCHW until bench/device_check.sh says."""
    return mode == "on" or (mode == "auto" and device.type == "cpu" and dtype == torch.float32)


def nhwc(x: torch.Tensor) -> torch.Tensor:
    """K×N×C×H×W with each x[k] in channels_last strides (the values unchanged)."""
    return x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


def final_activation_grad(logits: torch.Tensor, y: torch.Tensor, fc_weight: torch.Tensor) -> torch.Tensor:
    """∂L/∂a⁽ᴸ⁾ per sample, L the minibatch-mean cross-entropy and logits = W a⁽ᴸ⁾ + b:
    (softmax(logits) − onehot(y)) W / B. Exactly what a hook on a⁽ᴸ⁾ sees, for K models at once
    (logits K×B×classes, y K×B, W K×classes×D), with no hook to break vmap."""
    residual = logits.softmax(-1)
    residual.scatter_add_(-1, y[..., None], torch.full_like(residual[..., :1], -1.0))
    return torch.einsum("kbc,kcd->kbd", residual, fc_weight) / y.shape[1]


def add_decay(
    grads: list[torch.Tensor],
    weights: list[torch.Tensor],
    anchors: list[torch.Tensor],
    free_grads: list[torch.Tensor],
    free_weights: list[torch.Tensor],
    weight_decay: float,
) -> None:
    """g_w += λ·(w − ρ_w) for the anchored weights and g_w += λ·w for the free ones, in place: two fused ops per
    kind, each rounding as autograd did for (λ/2)·‖w − ρ‖²."""
    if not weight_decay:
        return
    if anchors:
        torch._foreach_add_(grads, torch._foreach_mul(torch._foreach_sub(weights, anchors), weight_decay))
    if free_weights:
        torch._foreach_add_(free_grads, torch._foreach_mul(free_weights, weight_decay))


def momentum_update(
    params: list[torch.Tensor],
    grads: list[torch.Tensor],
    buffers: list[torch.Tensor],
    lr: float | torch.Tensor,
    momentum: float,
) -> None:
    """buf ← m·buf + g, θ ← θ − lr·buf, in place (torch.optim.SGD, dampening 0, no Nesterov); lr a number, or a
    0-d tensor (the compiled step's, so that a new lr is no new graph)."""
    torch._foreach_mul_(buffers, momentum)
    torch._foreach_add_(buffers, grads)
    if isinstance(lr, torch.Tensor):
        torch._foreach_sub_(params, torch._foreach_mul(buffers, lr))
    else:
        torch._foreach_add_(params, buffers, alpha=-lr)


class StepCompileError(RuntimeError):
    """`compile: on` (or `compile_eval: on`), and torch.compile could not capture the step (or the evaluation)."""


def compile_failure(error: BaseException) -> bool:
    """Whether `error` is torch.compile failing to trace or compile the step, raised before the compiled graph runs
    (dynamo's own exceptions, the recompile limit); anything else is a failure of the step itself."""
    from torch._dynamo import exc  # imported with the compiler, which only a compiled step loads

    return isinstance(error, (exc.TorchDynamoException, exc.FailOnRecompileLimitHit))


def prepare_compiler(cfg, device: torch.device) -> None:
    """Before a job compiles (its step, its evaluation): a fresh cache, a recompile past the limit raised (so never a
    silent eager step), and on CUDA with `deterministic` inductor's deterministic mode (no kernel choice timed
    afresh in each job)."""
    torch._dynamo.reset()
    torch._dynamo.config.fail_on_recompile_limit_hit = True
    if cfg.deterministic and device.type == "cuda":
        from torch._inductor import config as inductor

        inductor.deterministic = True


def fall_back(error: Exception, key: str, mode: str, what: str, then: str) -> None:
    """After `error` from a compiled `what` (the training step, the evaluation) under `key: mode`: anything but a
    failure to compile is raised again; under `on` a failure to compile is an error (StepCompileError); under
    `auto` it is warned once, and the caller goes on eagerly (`then`)."""
    if not compile_failure(error):
        raise error
    why = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
    if mode == "on":
        raise StepCompileError(
            f"{key}: on, and torch.compile could not capture {what} ({why}); "
            f"set {key}: auto (falls back to eager, warned) or off"
        ) from error
    warnings.warn(f"torch.compile could not capture {what} ({why}); {then}", stacklevel=3)


def compile_mode(device: torch.device) -> str | None:
    """torch.compile's mode for the step: CUDA graphs on a GPU (no launch per kernel), inductor's default else."""
    return "reduce-overhead" if device.type == "cuda" else None


class Step:
    """The SGD step of one job's seed group (train.SeedGroup) on its device data (minibatches.DeviceData)."""

    def __init__(self, group, dd, cfg, optimiser, autocast, device: torch.device):
        self.group, self.dd, self.cfg, self.optimiser, self.autocast = group, dd, cfg, optimiser, autocast
        names = list(group.params)  # the decayed weights by position: with an anchor ρ (T⁻¹(p)), and without
        self.anchored = [names.index(n) for n in group.weight_names if n in group.anchors]
        self.anchors = [group.anchors[n] for n in group.weight_names if n in group.anchors]
        self.free = [names.index(n) for n in group.weight_names if n not in group.anchors]
        self.compiled, self.lr = None, torch.zeros((), dtype=torch.float64, device=device)
        if compiles(cfg.compile, device):
            prepare_compiler(cfg, device)
            mode = compile_mode(device)
            if device.type == "cuda":  # CUDA graphs need the tensors the step reads and mutates at fixed addresses
                for t in (
                    *group.params.values(),
                    *group.buffers.values(),
                    *optimiser.momentum_buffers(),
                    dd.train_x,
                    dd.train_y,
                    self.lr,
                ):
                    torch._dynamo.mark_static_address(t)
            self.compiled = torch.compile(
                functools.partial(self.eager, functional=True), mode=mode, dynamic=False, fullgraph=True
            )

    def gradients(self, x: torch.Tensor, y: torch.Tensor, functional: bool):
        """∇ Σ_k L_k (K minibatch-mean cross-entropies), each model's L_k and logits. `functional`: through
        torch.func.grad, which torch.compile captures (it cannot capture torch.autograd.grad); otherwise plain
        autograd, which a CPU runs about 12% faster eagerly (bench/bench_train.py). The two agree bit for bit."""
        group, dtype = self.group, self.dd.dtype

        def loss(params, model_buffers):  # the buffers as an argument: BN updates its running statistics
            with self.autocast:
                logits = group.forward_with(params, model_buffers, x).to(dtype)
            losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)
            return losses.sum(), (losses, logits)

        if functional:
            grads, (losses, logits) = grad(loss, has_aux=True)(group.params, group.buffers)
            return list(grads.values()), losses, logits
        with torch.enable_grad():
            total, (losses, logits) = loss(group.params, group.buffers)
        grads = torch.autograd.grad(total, list(group.params.values()))
        return list(grads), losses.detach(), logits.detach()

    def eager(
        self,
        plan: torch.Tensor,
        lr: float,
        buffers: list[torch.Tensor],
        capture: bool = False,
        functional: bool = False,
    ):
        """One step in place; returns each model's minibatch loss before it and, with `capture`, ∂L/∂a⁽ᴸ⁾ of its
        samples (K×B×D) before it."""
        group, dd, cfg = self.group, self.dd, self.cfg
        x, y = minibatch(dd.train_x, dd.train_y, dd.mean, dd.std, dd.dtype, plan, cfg.crop_padding)
        if group.channels_last:
            x = nhwc(x)
        grads, losses, logits = self.gradients(x, y, functional)
        final_grad = final_activation_grad(logits, y, group.params["fc.weight"]) if capture else None
        params = list(group.params.values())
        add_decay(
            [grads[i] for i in self.anchored],
            [params[i] for i in self.anchored],
            self.anchors,
            [grads[i] for i in self.free],
            [params[i] for i in self.free],
            cfg.weight_decay,
        )
        momentum_update(params, grads, buffers, lr, cfg.momentum)
        return losses, final_grad

    @torch.no_grad()
    def __call__(self, plan: torch.Tensor, lr: float, capture: bool = False):
        """The step (compiled where the config says so; capturing steps, Fig 10's first epochs, run eager)."""
        buffers = self.optimiser.momentum_buffers()
        if self.compiled is not None and not capture:
            self.lr.fill_(lr)
            try:
                losses, _ = self.compiled(plan, self.lr, buffers)
            except Exception as error:
                fall_back(error, "compile", self.cfg.compile, "the training step", "training on eagerly")
                self.compiled = None
            else:
                return losses.clone(), None  # a CUDA graph's outputs are overwritten by its next replay
        return self.eager(plan, lr, buffers, capture)
