"""Evaluation of a seed group: each model's mean cross-entropy and error over un-augmented images, in eval mode
(BN on its running statistics), under `inference_mode`, in the job's dtype, autocast and layout.

`eval_batch_size: auto` (TrainConfig.eval_batch) takes 125 images per forward on a CPU, measured fastest there
(bench/bench_eval.py), and 1,000 on a GPU, which divides both CIFAR sets (50,000 and 10,000) so a compiled
evaluation is one graph. `compile_eval` (auto: on CUDA, as the step's `compile`) compiles the forward of a batch
with its loss and error counts, without CUDA graphs (its outputs are read at once); a failure to compile falls back
to eager as the step's does (step.py), and with `compile_eval: on` it is an error.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .minibatches import DeviceData
from .seedgroup import SeedGroup
from .step import compiles, fall_back, prepare_compiler


class Evaluator:
    """`evaluator(x_all, y_all)`: each model's mean loss and error over the images x_all (uint8) and labels y_all."""

    def __init__(self, group: SeedGroup, dd: DeviceData, cfg, autocast, device: torch.device):
        self.group, self.dd, self.cfg, self.autocast = group, dd, cfg, autocast
        self.batch_size = cfg.eval_batch(device)
        # one float32 model on a CPU runs its eager forward fastest with its weights copied into channels_last once
        # per evaluation (bench/bench_eval.py): `copies`; otherwise the group's own forward, in its training layout
        self.copies = device.type == "cpu" and dd.dtype == torch.float32 and group.k == 1
        self.forward = group.inference(group.channels_last)
        self.compiled = None
        if compiles(cfg.compile_eval, device):
            prepare_compiler(cfg, device)
            self.copies = False  # a compiled forward reads the live weights: a copy would be a new graph input
            self.compiled = torch.compile(self.batch_stats, dynamic=False, fullgraph=True)

    def batch_stats(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per model: the summed cross-entropy (float64) and the number of errors over one batch."""
        k = self.group.k
        with self.autocast:
            logits = self.forward(self.dd.normalise(x)).to(self.dd.dtype)
        loss = F.cross_entropy(logits.flatten(0, 1), y.repeat(k), reduction="none").view(k, -1).sum(1).double()
        return loss, (logits.argmax(-1) != y).sum(1)

    def __call__(self, x_all: torch.Tensor, y_all: torch.Tensor) -> tuple[list[float], list[float]]:
        group, k, dev = self.group, self.group.k, x_all.device
        group.train(False)
        if self.copies:
            self.forward = group.inference(True, copy_weights=True)
        loss_sum = torch.zeros(k, dtype=torch.float64, device=dev)
        wrong = torch.zeros(k, dtype=torch.int64, device=dev)
        with torch.inference_mode():
            for i in range(0, len(y_all), self.batch_size):
                loss, errors = self.batch(x_all[i : i + self.batch_size], y_all[i : i + self.batch_size])
                loss_sum += loss
                wrong += errors
        group.train(True)
        return (loss_sum / len(y_all)).tolist(), (wrong.double() / len(y_all)).tolist()

    def batch(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One batch's statistics; a compiled evaluation that cannot be compiled goes on eagerly (warned), or with
        `compile_eval: on` stops with an error. Nothing is changed before it runs, so nothing is done twice."""
        if self.compiled is not None:
            try:
                return self.compiled(x, y)
            except Exception as error:
                fall_back(error, "compile_eval", self.cfg.compile_eval, "the evaluation", "evaluating eagerly")
                self.compiled = None
        return self.batch_stats(x, y)
