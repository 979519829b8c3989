"""The training engine: one run, or a seed group of K runs trained together in one process.

- Data lives on the training device as uint8; each epoch's permutation, crop offsets and flips are
  a pure function of (data seed, epoch), drawn on a CPU generator, so any two runs with the same
  data seed see bit-identical minibatches on any device, and a resumed run needs no RNG state.
- The K runs' parameters are stacked (torch.func); K > 1 runs under vmap, which lowers each conv to
  one grouped convolution, each model reading its own minibatch. SGD with momentum is elementwise,
  so one group step is K single-run steps.
- One SGD step is one function of tensors (step.py): gather, crop and flip, forward, loss, its gradient,
  weight decay λ·w on weights only or λ·T⁻¹(p) (YT §4.1), momentum; torch.compile captures it whole on a
  GPU (TrainConfig.compile), and it runs eager, bit for bit the loss-plus-penalty step, elsewhere.
- After every epoch a checkpoint is written atomically; rerunning the same job resumes from it.
- The job owns its group folder (runfolder.GroupFolder: job.json, checkpoint.pt, done.json) and its runs'
  folders: each file's digest is recorded as it is written, and at the end every run's manifest.json and then
  done.json are sealed, so that no stage reads a file that changed since.

`train_group` reads top-down: `setup` (device, data, models, optimiser), `resume`, then per epoch
`train_epoch` (one `train_step`, i.e. one step.Step, per minibatch), `mark_diverged`, `record` (evaluate), `snapshot`,
`write_epoch_files`, and at the end `write_final` and `seal`. A run's identity and recipe (`Run`, `TrainConfig`)
live in runs.py.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from . import provenance
from .data import ImageData, load_cached
from .files import Unreadable, load_torch, remove_temporaries, save_torch
from .init import initialise
from .models import build_model
from .runfolder import METRICS, GroupFolder, RunFolder
from .runs import INITS, Run, TrainConfig
from .sgd import MomentumSGD
from .step import Step, in_channels_last, minibatch
from .transfer import rho, squared_distance, transfer_to_plain, weights

DTYPES = {"float32": torch.float32, "float64": torch.float64}


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


# ---------------------------------------------------------------- data on the device


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


# ---------------------------------------------------------------- the group of K models


def nhwc(x: torch.Tensor) -> torch.Tensor:
    """K×N×C×H×W with each x[k] in channels_last strides (the values unchanged)."""
    return x.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)


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


# ---------------------------------------------------------------- progress


class Progress:
    """A tqdm bar on a terminal; plain log lines otherwise."""

    def __init__(self, name: str, total: int, initial: int):
        self.name, self.total, self.bar = name, total, None
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, initial=initial, desc=name, unit="ep", dynamic_ncols=True)
            except ImportError:
                pass

    def update(self, epoch: int, summary: dict):
        text = " ".join(f"{k}={v}" for k, v in summary.items())
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            print(f"[{self.name}] epoch {epoch}/{self.total} {text}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


# ---------------------------------------------------------------- files


def fingerprint(runs, cfg: TrainConfig, data_sha256: str) -> str:
    blob = json.dumps([[dataclasses.asdict(r) for r in runs], cfg.to_dict(), data_sha256], sort_keys=True, default=list)
    return hashlib.sha256(blob.encode()).hexdigest()


def final_activation_grad(logits: torch.Tensor, y: torch.Tensor, fc_weight: torch.Tensor) -> torch.Tensor:
    """∂L/∂a⁽ᴸ⁾ per sample, L the minibatch-mean cross-entropy and logits = W a⁽ᴸ⁾ + b:
    (softmax(logits) − onehot(y)) W / B. Exactly what a hook on a⁽ᴸ⁾ sees, for K models at once
    (logits K×B×classes, y K×B, W K×classes×D), with no hook to break vmap."""
    residual = logits.softmax(-1)
    residual.scatter_add_(-1, y[..., None], torch.full_like(residual[..., :1], -1.0))
    return torch.einsum("kbc,kcd->kbd", residual, fc_weight) / y.shape[1]


# ---------------------------------------------------------------- the engine


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


@dataclass
class _State:
    """What a checkpoint carries besides the weights and the optimiser: where training is, and each run's record."""

    epoch: int = 0
    iteration: int = 0
    wall_s: float = 0.0
    metrics: list = field(default_factory=list)  # per run: list of rows
    iterations: list = field(default_factory=list)  # per run: every minibatch loss (log_iterations)
    status: list = field(default_factory=list)  # per run: 'running' | 'finished' | 'diverged'
    written: list = field(default_factory=list)  # per run: each file written in its folder → its digest


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class Job:
    """One training job as it trains: K runs differing only in seeds, their data and models on the device,
    the optimiser, the files it writes, and where its seconds went (setup, train, evaluate, write)."""

    runs: list[Run]
    cfg: TrainConfig
    folders: list[RunFolder]  # each run's
    home: GroupFolder  # the job's own: job.json, checkpoint.pt, done.json
    name: str
    dev: torch.device
    dtype: torch.dtype
    dd: DeviceData
    group: SeedGroup
    optimiser: MomentumSGD
    step: Step
    key: str  # the fingerprint a checkpoint must carry to be resumed
    run_meta: dict  # what every run's config.json records besides the run
    autocast: torch.autocast
    seconds: dict

    @property
    def k(self) -> int:
        return len(self.runs)

    @property
    def n(self) -> int:
        return len(self.dd.train_y)

    @property
    def batches(self) -> int:
        return self.cfg.batches(self.n)


def setup(
    runs: list[Run],
    cfg: TrainConfig,
    data_path: Path,
    out_dirs: list[Path],
    home: Path,
    device: str,
    name: str | None,
    seconds: dict,
) -> Job:
    """The device, the data on it, the K models stacked into one group, and the optimiser."""
    if len(runs) != len(out_dirs) or not runs:
        raise ValueError("one output folder per run, and at least one run")
    shape = {(r.arch, r.net, r.depth, r.init) for r in runs}
    if len(shape) != 1:
        raise ValueError(f"a seed group differs only in seeds; got {sorted(shape)}")
    dev = pick_device(device)
    dtype = DTYPES[cfg.dtype]
    if cfg.deterministic and dev.type == "cuda":
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    data, meta = load_cached(Path(data_path))
    dd = DeviceData(data, meta, dev, dtype, cfg.train_subset, cfg.test_subset)
    del data
    group = SeedGroup(
        [make_model(r, dd.num_classes, dtype).to(dev) for r in runs],
        cfg.decay_on_T_inverse,
        in_channels_last(cfg.channels_last, dev, dtype),
    )
    optimiser = MomentumSGD(list(group.params.values()), lr=cfg.lr, momentum=cfg.momentum)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cfg.bf16)
    run_meta = {
        "train": dataclasses.asdict(cfg),
        "data": {k: meta[k] for k in ("dataset", "source", "file_sha256", "counts")},
        "data_used": {"train": len(dd.train_y), "test": len(dd.test_y)},
        "device": str(dev),
        "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
        **provenance.environment(),
    }
    return Job(
        runs=runs,
        cfg=cfg,
        folders=[RunFolder(out) for out in out_dirs],
        home=GroupFolder(home),
        name=name or (runs[0].run_id if len(runs) == 1 else f"{runs[0].run_id}+{len(runs) - 1}"),
        dev=dev,
        dtype=dtype,
        dd=dd,
        group=group,
        optimiser=optimiser,
        step=Step(group, dd, cfg, optimiser, autocast, dev),
        key=fingerprint(runs, cfg, meta["file_sha256"]),
        run_meta=run_meta,
        autocast=autocast,
        seconds=seconds,
    )


def resume(job: Job) -> _State:
    """The state after the last finished epoch, from this job's checkpoint (weights, optimiser and the record of
    the files written copied in), or a fresh one, the runs' folders cleared of what an earlier job left: with no
    checkpoint, or one of another configuration. Either way, what a killed write left in the job's folders goes."""
    for folder in (job.home, *job.folders):
        if folder.path.is_dir():
            for tmp in remove_temporaries(folder.path):
                log(job, f"removed {tmp}, left by a write that was killed")
    state = resumed(job)
    if state is None:
        for folder in job.folders:
            folder.clear()
        return _State(
            metrics=[[] for _ in job.runs],
            iterations=[[] for _ in job.runs],
            status=["running"] * job.k,
            written=[{} for _ in job.runs],
        )
    if state.written:
        for folder, written in zip(job.folders, state.written):
            folder.written = written
    else:  # a checkpoint from before the record: the torch files vouch for themselves, the records are rewritten
        for folder in job.folders:
            folder.adopt_torch_files()
        write_records(job, state)
    return state


def resumed(job: Job) -> _State | None:
    """The state the job's checkpoint holds, its weights and optimiser copied in; None where there is none of
    this job (an unreadable checkpoint is set aside, with one warning)."""
    checkpoint = job.home.checkpoint
    if not checkpoint.is_file():
        return None
    try:
        saved = load_torch(checkpoint, map_location=job.dev)
    except Unreadable as error:  # set aside, never fatal: the job trains afresh
        aside = job.home.set_aside_checkpoint()
        warnings.warn(
            f"{checkpoint} cannot be read ({error.__cause__}); set aside as {aside}; training {job.name} afresh",
            stacklevel=2,
        )
        return None
    if saved.get("fingerprint") != job.key:
        log(job, f"{checkpoint} belongs to another configuration; starting afresh")
        return None
    with torch.no_grad():
        for store, saved_store in ((job.group.params, saved["params"]), (job.group.buffers, saved["buffers"])):
            for name, value in store.items():
                value.copy_(saved_store[name])
    job.optimiser.load_state_dict(saved["optimiser"])
    state = _State(**saved["state"])
    log(job, f"resuming after epoch {state.epoch}")
    if saved.get("code_version") != job.run_meta["code_version"]:
        log(
            job,
            f"note: the checkpoint was written by code version {saved.get('code_version')}, "
            f"this is {job.run_meta['code_version']}",
        )
    return state


def log(job: Job, message: str):
    print(f"[{job.name}] {message}", file=sys.stderr, flush=True)


def write_run_configs(job: Job):
    """Each run's config.json: the run, its seed group, the resolved train config, data, device, versions; and
    beside the checkpoint, job.json: which run folders this job trains (what plainres.retrain reads)."""
    job.home.write_job(job.runs, [folder.path for folder in job.folders])
    for run, folder in zip(job.runs, job.folders):
        folder.write_config(
            {
                "run": dataclasses.asdict(run),
                "run_id": run.run_id,
                "seed_group": [r.run_id for r in job.runs],
                **job.run_meta,
            }
        )


def train_step(
    job: Job, plans: torch.Tensor, it: int, capture: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Minibatch `it` of each model's epoch plan (gathered, cropped, flipped), then one SGD step of every model
    (step.Step: forward, mean cross-entropy, its gradient, decay λ·w or λ·T⁻¹(p), momentum update). Returns each
    model's minibatch loss before the step and, with `capture`, ∂L/∂a⁽ᴸ⁾ of its samples (K×B×D) before the step."""
    b = job.cfg.batch_size
    return job.step(plans[:, :, it * b : (it + 1) * b], job.optimiser.lr, capture)


def train_epoch(job: Job, state: _State, epoch: int) -> torch.Tensor:
    """One epoch of SGD steps on each run's minibatch plan (1-based `epoch`): the loss of every minibatch
    (batches×K). Snapshots at the iterations the config names; ∂L/∂a⁽ᴸ⁾ of every sample in the epochs that
    capture it, written before the checkpoint, so a resumed run lacks no epoch."""
    cfg, dev, k, n = job.cfg, job.dev, job.k, job.n
    job.optimiser.lr = cfg.lr_at(epoch)
    plans = torch.stack([epoch_plan(n, r.data_seed_, epoch, cfg.crop_padding, cfg.flip) for r in job.runs]).to(dev)
    losses = torch.zeros(job.batches, k, dtype=job.dtype, device=dev)
    capture = epoch <= cfg.capture_final_grad_epochs
    width = job.group.params["fc.weight"].shape[-1]
    grads = torch.empty(k, n, width, dtype=job.dtype, device=dev) if capture else None
    snap_iters = set(cfg.snapshot_iterations)
    for it in range(job.batches):
        losses[it], final_grad = train_step(job, plans, it, capture)
        if capture:
            grads[:, it * cfg.batch_size : it * cfg.batch_size + final_grad.shape[1]] = final_grad
        state.iteration += 1
        if state.iteration in snap_iters:
            snapshot(job, state, f"iter_{state.iteration}")
    if capture:
        for kk, folder in enumerate(job.folders):
            folder.save_final_grad(
                epoch,
                {"grad": grads[kk].cpu(), "epoch": epoch, "batch_size": cfg.batch_size, "run_id": job.runs[kk].run_id},
            )
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    return losses


def mark_diverged(job: Job, state: _State, epoch: int, mean_loss: list[float]):
    """A run whose epoch loss is not finite is `diverged`: one row says so, and the others train on."""
    for kk, value in enumerate(mean_loss):
        if state.status[kk] == "running" and not math.isfinite(value):
            state.status[kk] = "diverged"
            state.metrics[kk].append(
                {
                    **{m: "" for m in METRICS},
                    "epoch": epoch,
                    "iteration": state.iteration,
                    "lr": job.cfg.lr_at(epoch),
                    "minibatch_loss": value,
                    "wall_s": round(state.wall_s, 3),
                    "status": "diverged",
                }
            )


def record(job: Job, state: _State, epoch: int, minibatch_loss: list[float] | None):
    """One metrics row per live run: L over the training images, E and the loss over the test images (both
    un-augmented, eval mode), the weight regularisation (λ/2)·‖w‖²/B and the cost C = L + it."""
    began = time.perf_counter()
    cfg, dd, group = job.cfg, job.dd, job.group
    train_loss, _ = evaluate(group, dd, dd.train_x, dd.train_y, cfg.eval_batch_size, job.autocast)
    test_loss, test_error = evaluate(group, dd, dd.test_x, dd.test_y, cfg.eval_batch_size, job.autocast)
    with torch.no_grad():
        reg = (cfg.weight_decay / 2 * group.penalty() / cfg.batch_size).tolist()
    for kk in range(job.k):
        if state.status[kk] == "diverged":
            continue
        state.metrics[kk].append(
            {
                "epoch": epoch,
                "iteration": state.iteration,
                "lr": cfg.lr_at(max(epoch, 1)),
                "train_loss": train_loss[kk],
                "weight_reg": reg[kk],
                "cost": train_loss[kk] + reg[kk],
                "test_error": test_error[kk],
                "test_loss": test_loss[kk],
                "minibatch_loss": minibatch_loss[kk] if minibatch_loss else "",
                "wall_s": round(state.wall_s, 3),
                "status": state.status[kk],
            }
        )
    job.seconds["evaluate"] += time.perf_counter() - began


def snapshot(job: Job, state: _State, tag: str):
    """snapshots/<tag>.pt of every live run: its weights, epoch and iteration."""
    for kk, folder in enumerate(job.folders):
        if state.status[kk] != "diverged":
            folder.save_snapshot(
                tag,
                {
                    "state_dict": job.group.state_of(kk),
                    "epoch": state.epoch,
                    "iteration": state.iteration,
                    "run_id": job.runs[kk].run_id,
                },
            )


def write_epoch_files(job: Job, state: _State):
    """Each run's metrics.csv (and iterations.csv), then the checkpoint (weights, optimiser, state and the record
    of every file written, these included), each atomically: a job killed before the checkpoint redoes the epoch."""
    began = time.perf_counter()
    write_records(job, state)
    state.written = [folder.written for folder in job.folders]
    save_torch(
        {
            "fingerprint": job.key,
            "code_version": job.run_meta["code_version"],
            "params": job.group.params,
            "buffers": job.group.buffers,
            "optimiser": job.optimiser.state_dict(),
            "state": dataclasses.asdict(state),
        },
        job.home.checkpoint,
    )
    job.seconds["write"] += time.perf_counter() - began


def write_records(job: Job, state: _State):
    """Each run's metrics.csv, and with log_iterations its iterations.csv, from the state."""
    for kk, folder in enumerate(job.folders):
        folder.write_metrics(state.metrics[kk])
        if job.cfg.log_iterations:  # one row per SGD step: the loss of its minibatch before the step (repr: exact)
            cfg, batches = job.cfg, job.batches
            folder.write_iterations(
                [
                    {
                        "iteration": i + 1,
                        "epoch": i // batches + 1,
                        "lr": cfg.lr_at(i // batches + 1),
                        "minibatch_loss": repr(v),
                    }
                    for i, v in enumerate(state.iterations[kk])
                ]
            )


def write_final(job: Job, state: _State):
    """final.pt of every run: its weights, last epoch and status."""
    began = time.perf_counter()
    for kk, folder in enumerate(job.folders):
        folder.save_snapshot(
            "final",
            {
                "state_dict": job.group.state_of(kk),
                "run_id": job.runs[kk].run_id,
                "epoch": state.epoch,
                "status": state.status[kk],
            },
        )
    job.seconds["write"] += time.perf_counter() - began


def seal(job: Job, state: _State):
    """Each run's manifest.json (its files' digests, checked against the files), then the job's done.json."""
    for run, folder, status in zip(job.runs, job.folders, state.status):
        folder.seal(run.run_id, status, state.epoch)
    job.home.write_done(
        [
            {"run_id": run.run_id, "dir": str(folder.path), "status": status}
            for run, folder, status in zip(job.runs, job.folders, state.status)
        ],
        {k: round(v, 3) for k, v in job.seconds.items()},  # where this job's time went
    )


def train_group(
    runs: list[Run],
    cfg: TrainConfig,
    data_path: Path,
    out_dirs: list[Path],
    group: Path,
    device: str = "auto",
    name: str | None = None,
    seconds: dict | None = None,
) -> list[str]:
    """Train `runs` (differing only in seeds) together in the job whose folder is `group`; write each run's files,
    their manifests and done.json; return the statuses. `seconds`, when given, receives where the time went:
    setup (data, models, resume), train, evaluate, write."""
    started = time.perf_counter()
    seconds = {} if seconds is None else seconds
    seconds.update(dict.fromkeys(("setup", "train", "evaluate", "write"), 0.0))

    # the data and the models on the device; the last finished epoch, if a checkpoint of this job holds one
    job = setup(runs, cfg, data_path, out_dirs, group, device, name, seconds)
    state = resume(job)
    write_run_configs(job)
    snap_epochs = cfg.snapshot_epochs_resolved()
    seconds["setup"] = time.perf_counter() - started

    # epoch 0: the initialisation, evaluated and kept
    if state.epoch == 0 and not any(state.metrics):
        record(job, state, 0, None)
        if 0 in snap_epochs:
            snapshot(job, state, "epoch_0")
        write_epoch_files(job, state)

    progress = Progress(job.name, cfg.epochs, state.epoch)
    job.group.train(True)
    try:
        while state.epoch < cfg.epochs and "running" in state.status:
            epoch = state.epoch + 1
            # train one epoch
            start = time.perf_counter()
            losses = train_epoch(job, state, epoch)
            epoch_seconds = time.perf_counter() - start
            state.wall_s += epoch_seconds
            seconds["train"] += epoch_seconds
            state.epoch = epoch
            mean_loss = losses.mean(0).tolist()
            if cfg.log_iterations:
                for kk, column in enumerate(losses.T.tolist()):
                    state.iterations[kk].extend(column)
            # a non-finite loss ends that run; the last epoch ends the others
            mark_diverged(job, state, epoch, mean_loss)
            if epoch == cfg.epochs:
                state.status = ["finished" if s == "running" else s for s in state.status]
            # evaluate, keep the snapshot, write the checkpoint and the metrics
            if cfg.evaluates(epoch):
                record(job, state, epoch, mean_loss)
            if epoch in snap_epochs:
                snapshot(job, state, f"epoch_{epoch}")
            write_epoch_files(job, state)
            alive = [kk for kk in range(job.k) if state.status[kk] != "diverged"]
            progress.update(
                epoch,
                {
                    "L": f"{np.mean([mean_loss[kk] for kk in alive]):.4f}" if alive else "nan",
                    "img/s": f"{job.k * job.n / epoch_seconds:.0f}",
                    "diverged": job.k - len(alive),
                },
            )
    finally:
        progress.close()

    # the final weights, then the manifests and done.json
    write_final(job, state)
    seal(job, state)
    return state.status


# ---------------------------------------------------------------- jobs


def run_job(job: dict, data: Path, device: str) -> list[tuple[Run, str, str]]:
    """Train one job (runs, train config, out_dirs, group folder as JSON values); (run, folder, status) each."""
    runs = [Run(**r) for r in job["runs"]]
    statuses = train_group(
        runs,
        TrainConfig.from_dict(job["train"]),
        Path(data),
        [Path(d) for d in job["out_dirs"]],
        Path(job["group"]),
        device,
    )
    return list(zip(runs, job["out_dirs"], statuses))


def main(argv=None):
    """python -m plainres.train JOB.json — the job names runs, train config, data, run folders, group folder."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("job", type=Path)
    args = parser.parse_args(argv)
    job = json.loads(args.job.read_text())
    for run, _, status in run_job(job, Path(job["data"]), job.get("device", "auto")):
        print(f"{run.run_id}: {status}", file=sys.stderr)


if __name__ == "__main__":
    main()
