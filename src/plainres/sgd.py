"""SGD with momentum, as torch.optim.SGD computes it (dampening 0, no Nesterov), bit for bit.

    buf ← g  (first step),   buf ← momentum·buf + g  (later steps),   p ← p − lr·buf

torch.optim.SGD imports the compiler stack (torch._dynamo) on first use, about 2 s of every training
job's start on a CPU; this is the same arithmetic with the same kernels (torch's `_foreach_*` ops on
a CPU are its per-tensor ops; on a GPU they are what torch.optim.SGD's default foreach path runs).
"""
from __future__ import annotations

import torch


class MomentumSGD:
    """The SGD step of `params` (leaf tensors whose .grad the backward fills)."""

    def __init__(self, params: list[torch.Tensor], lr: float, momentum: float):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.buffers: list[torch.Tensor] | None = None  # momentum buffers, made by the first step

    @torch.no_grad()
    def step(self) -> None:
        grads = [p.grad for p in self.params]
        if self.momentum == 0:
            update = grads
        elif self.buffers is None:
            self.buffers = update = [g.detach().clone() for g in grads]
        else:
            torch._foreach_mul_(self.buffers, self.momentum)
            torch._foreach_add_(self.buffers, grads)
            update = self.buffers
        torch._foreach_add_(self.params, update, alpha=-self.lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        return {"buffers": self.buffers}

    def load_state_dict(self, state: dict) -> None:
        """Our own state, or a torch.optim.SGD state dict (checkpoints written before this module)."""
        if "buffers" in state:
            buffers = state["buffers"]
        else:
            saved = [state["state"].get(i, {}).get("momentum_buffer") for i in range(len(self.params))]
            buffers = None if any(b is None for b in saved) else saved
        self.buffers = None if buffers is None else [b.to(p).clone() for b, p in zip(buffers, self.params)]
