"""The data a run trains on, and the minibatches it draws: what the engine trains from and what the measurements
replay, below both.

- Each epoch's minibatch plan (sample order, crop offsets, flips) is a pure function of (data seed, epoch), drawn
  on a CPU generator (`epoch_plan`), so any two runs with the same data seed see bit-identical minibatches on any
  device, and a resumed run needs no RNG state.
- `DeviceData`: the cached dataset on the training device (uint8), its fixed train/test subsets and its
  normalisation; `minibatch` gathers, crops and flips each run's minibatch of its plan in one batched op.
- `TrainingSets`: each run's training images as the measurements read them; `replay_minibatch`: the minibatch a
  run drew at a given step, exactly.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .data import ImageData
from .runs import Run, TrainConfig


def augment(x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, fl: torch.Tensor, pad: int) -> torch.Tensor:
    """Batched random crop of the zero-padded uint8 images and horizontal flip; x is B×C×H×W."""
    b, c, h, w = x.shape
    if pad:
        xp = F.pad(x, (pad, pad, pad, pad))
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        x = xp[
            torch.arange(b, device=x.device)[:, None, None, None],
            torch.arange(c, device=x.device)[None, :, None, None],
            rows,
            cols,
        ]
    return torch.where(fl.bool()[:, None, None, None], x.flip(-1), x)


def minibatch(train_x, train_y, mean, std, dtype, plan: torch.Tensor, crop_padding: int):
    """Each model's minibatch (plan: K×4×B, its order, crop offsets and flips): normalised K×B×3×32×32, labels K×B."""
    order, dy, dx, fl = plan.unbind(1)
    k, b = order.shape
    x = augment(train_x[order.flatten()], dy.flatten(), dx.flatten(), fl.flatten(), crop_padding)
    return ((x.to(dtype) - mean) / std).view(k, b, *x.shape[1:]), train_y[order]


def epoch_generator(data_seed: int, epoch: int) -> torch.Generator:
    """The CPU generator of one epoch's minibatch plan, a function of (data seed, epoch) alone."""
    seed = int(np.random.SeedSequence([data_seed, epoch]).generate_state(1, np.uint64)[0] >> 1)
    return torch.Generator().manual_seed(seed)


def epoch_plan(n: int, data_seed: int, epoch: int, crop_padding: int, flip: bool) -> torch.Tensor:
    """4×n int64: sample order, then per position the crop offsets (dy, dx) and the flip bit."""
    g = epoch_generator(data_seed, epoch)
    order = torch.randperm(n, generator=g)
    span = 2 * crop_padding + 1
    dy = torch.randint(span, (n,), generator=g) if crop_padding else torch.full((n,), 0)
    dx = torch.randint(span, (n,), generator=g) if crop_padding else torch.full((n,), 0)
    fl = torch.randint(2, (n,), generator=g) if flip else torch.zeros(n, dtype=torch.int64)
    return torch.stack([order, dy, dx, fl])


SUBSET_SEED = 0  # train/test subsets are fixed, not per run: paired runs and all seeds see the same images


class DeviceData:
    """The cached dataset on the training device (uint8), with its normalisation."""

    def __init__(self, data: ImageData, meta: dict, device, dtype, train_subset=None, test_subset=None):
        def take(x, y, n, key="train_subset"):
            if n is not None and n > len(y):
                raise ValueError(f"train config: {key} = {n} is more than the {len(y)} images of the data")
            if n is None or n == len(y):
                return x, y
            keep = torch.randperm(len(y), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n].sort().values
            return x[keep], y[keep]

        self.train_x, self.train_y = (t.to(device) for t in take(data.train_x, data.train_y, train_subset))
        self.test_x, self.test_y = (t.to(device) for t in take(data.test_x, data.test_y, test_subset, "test_subset"))
        self.num_classes = len(data.classes)
        self.mean = torch.tensor(meta["channel_mean"], dtype=dtype, device=device)[:, None, None]
        self.std = torch.tensor(meta["channel_std"], dtype=dtype, device=device)[:, None, None]
        self.dtype = dtype

    def normalise(self, x_uint8: torch.Tensor) -> torch.Tensor:
        return (x_uint8.to(self.dtype) - self.mean) / self.std

    def minibatch(self, plans: torch.Tensor, it: int, batch_size: int, crop_padding: int):
        """Minibatch `it` of each run's epoch plan (plans: K×4×n): normalised K×B×3×32×32, labels K×B."""
        return minibatch(
            self.train_x,
            self.train_y,
            self.mean,
            self.std,
            self.dtype,
            plans[:, :, it * batch_size : (it + 1) * batch_size],
            crop_padding,
        )


class TrainingSets:
    """What the measurements read: each run's training images (its fixed subset, un-augmented) as
    `dtype` DeviceData on the CPU, built once per subset and shared by every run that trained on it."""

    def __init__(self, data: ImageData, meta: dict, dtype: torch.dtype = torch.float64):
        self.data, self.meta, self.dtype, self._sets = data, meta, dtype, {}

    def __call__(self, subset) -> DeviceData:
        """The set of `subset` images (None, or NaN as pandas reads a missing subset: all of them)."""
        subset = None if subset is None or (isinstance(subset, float) and math.isnan(subset)) else int(subset)
        if subset not in self._sets:
            self._sets[subset] = DeviceData(self.data, self.meta, "cpu", self.dtype, subset)
        return self._sets[subset]


def replay_minibatch(
    run: Run, cfg: TrainConfig, train: DeviceData, epoch: int, it: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Minibatch `it` (0-based) of 1-based `epoch` exactly as the run (run, cfg) drew it from `train`, its
    training set: its data seed's order, crops and flips (images B×3×32×32, labels B)."""
    batches = cfg.batches(len(train.train_y))
    if not 0 <= it < batches or not 1 <= epoch <= cfg.epochs:
        raise ValueError(
            f"{run.run_id} trained {cfg.epochs} epochs of {batches} minibatches; "
            f"there is no minibatch {it} of epoch {epoch}"
        )
    plans = epoch_plan(len(train.train_y), run.data_seed_, epoch, cfg.crop_padding, cfg.flip)[None]
    x, y = train.minibatch(plans, it, cfg.batch_size, cfg.crop_padding)
    return x[0], y[0]
