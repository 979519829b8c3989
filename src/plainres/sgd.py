"""The state of SGD with momentum as torch.optim.SGD keeps it (dampening 0, no Nesterov): lr, momentum and one
buffer per parameter; the update itself is step.momentum_update, torch.optim.SGD's arithmetic bit for bit:

    buf ← g  (first step),   buf ← momentum·buf + g  (later steps),   p ← p − lr·buf

torch.optim.SGD imports the compiler stack (torch._dynamo) on first use, about 2 s of every training
job's start on a CPU; momentum_update is the same arithmetic with the same kernels (torch's `_foreach_*` ops
on a CPU are its per-tensor ops; on a GPU they are what torch.optim.SGD's default foreach path runs).
"""

from __future__ import annotations

import torch


class MomentumSGD:
    """lr, momentum and the momentum buffers of `params`, saved in and restored from a checkpoint."""

    def __init__(self, params: list[torch.Tensor], lr: float, momentum: float):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.buffers: list[torch.Tensor] | None = None  # momentum buffers, made by the first step

    def momentum_buffers(self) -> list[torch.Tensor]:
        """The momentum buffers, made as zeros before the first step (m·0 + g is g exactly)."""
        if self.buffers is None:
            self.buffers = [torch.zeros_like(p) for p in self.params]
        return self.buffers

    def state_dict(self) -> dict:
        return {"buffers": self.buffers}

    def load_state_dict(self, state: dict) -> None:
        """Our own state, or a torch.optim.SGD state dict (checkpoints written before this module)."""
        if "buffers" in state:
            buffers = state["buffers"]
        else:
            saved = [state["state"].get(i, {}).get("momentum_buffer") for i in range(len(self.params))]
            buffers = None if any(b is None for b in saved) else saved
        if buffers is None:  # before the first step: zeros, as momentum_buffers makes them
            buffers = [torch.zeros_like(p) for p in self.params]
        with torch.no_grad():  # into the buffers in place: a CUDA graph of the step holds their addresses
            for mine, saved in zip(self.momentum_buffers(), buffers):
                mine.copy_(saved)
