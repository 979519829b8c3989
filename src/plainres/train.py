"""The training engine: one job's lifecycle, a run or a seed group of K runs trained together in one process.

- The data on the device and each epoch's minibatch plan come from minibatches.py; the K models, stacked, from
  seedgroup.py; one SGD step (gather, crop and flip, forward, loss, its gradient, weight decay λ·w on weights
  only or λ·T⁻¹(p) (YT §4.1), momentum) from step.py, which torch.compile captures whole on a GPU
  (TrainConfig.compile); eager, it is bit for bit the loss-plus-penalty step.
- After every epoch a checkpoint is written atomically; rerunning the same job resumes from it.
- The job owns its group folder (runfolder.GroupFolder: job.json, checkpoint.pt, done.json) and its runs'
  folders: each file's digest is recorded as it is written, and at the end every run's manifest.json and then
  done.json are sealed, so that no stage reads a file that changed since.

`train_group` reads top-down: `setup` (device, data, models, optimiser), `resume`, then `next_epoch` until the
last: `train_epoch` (one `train_step`, i.e. one step.Step, per minibatch), `mark_diverged`, `evaluate_epoch`,
`snapshot`, `write_epoch_files`; and at the end `write_final` and `seal`. A run's identity and recipe (`Run`,
`TrainConfig`) live in runs.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import provenance
from .data import load_cached
from .devices import job_device
from .evaluation import Evaluator
from .files import Unreadable, load_torch, read_sealed_json, remove_temporaries, save_torch
from .minibatches import DeviceData, epoch_plan
from .runfolder import METRICS, GroupFolder, RunFolder
from .runs import Run, TrainConfig
from .seedgroup import SeedGroup, make_model
from .sgd import MomentumSGD
from .step import Step, in_channels_last

DTYPES = {"float32": torch.float32, "float64": torch.float64}


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


# ---------------------------------------------------------------- the engine


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
    evaluate: Evaluator
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


TORCH_FLOOR = (2, 10)  # pyproject.toml's: the oldest torch the tests passed on (docs/engine.md, Which torch)


def check_torch(version: str | None = None) -> None:
    """A job on a torch older than the floor stops at its start, saying why: older ones lack what the compiled
    step sets (inductor's deterministic mode, before 2.10) or fail its CPU compile (2.7). By major.minor, so a
    pre-release build (2.11.0a0, as NVIDIA's containers name theirs) counts as its release."""
    version = version or torch.__version__
    major, minor = (int(part) for part in re.match(r"(\d+)\.(\d+)", version).groups())
    if (major, minor) < TORCH_FLOOR:
        floor = ".".join(map(str, TORCH_FLOOR))
        raise RuntimeError(
            f"torch {version} is older than {floor}, the oldest plainres is tested on: "
            f"pip install 'torch>={floor}' (docs/engine.md, Which torch)"
        )


def device_numerics(cfg: TrainConfig, dev: torch.device) -> None:
    """On CUDA, before anything reaches the GPU: TF32 only where `tf32` asks (cuDNN allows it by default, which
    would make float32 convolutions TF32), and with `deterministic` deterministic algorithms (cuBLAS's with a
    fixed workspace) and cuDNN without benchmarking; the compiled step adds inductor's deterministic mode
    (step.Step). Nothing on a CPU, whose kernels are deterministic."""
    if dev.type != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
    torch.backends.cudnn.allow_tf32 = cfg.tf32
    if cfg.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # read when cuBLAS starts
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)  # an op without a deterministic kernel warns


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
    check_torch()
    dev = pick_device(device)
    dtype = DTYPES[cfg.dtype]
    device_numerics(cfg, dev)
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
        evaluate=Evaluator(group, dd, cfg, autocast, dev),
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
    else:  # a checkpoint from before the record of files: the torch files vouch for themselves, the logs are rewritten
        for folder in job.folders:
            folder.adopt_torch_files()
        write_logs(job, state)
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
        try:
            losses[it], final_grad = train_step(job, plans, it, capture)
        except Exception as error:  # a step is never retried: it may have changed the weights, or the device
            raise RuntimeError(
                f"{job.name}: SGD step {it + 1} of epoch {epoch} ({state.iteration + 1} of the job) failed: "
                f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}"
            ) from error
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


def evaluate_epoch(job: Job, state: _State, epoch: int, minibatch_loss: list[float] | None):
    """One metrics row per live run: L over the training images, E and the loss over the test images (both
    un-augmented, eval mode), the weight regularisation (λ/2)·‖w‖²/B and the cost C = L + it."""
    began = time.perf_counter()
    cfg, dd, group = job.cfg, job.dd, job.group
    train_loss, _ = job.evaluate(dd.train_x, dd.train_y)
    test_loss, test_error = job.evaluate(dd.test_x, dd.test_y)
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
    write_logs(job, state)
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


def write_logs(job: Job, state: _State):
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


def next_epoch(job: Job, state: _State, snap_epochs: set[int], progress: Progress):
    """Train one epoch; mark the runs whose loss is not finite diverged, the others finished after the last epoch;
    evaluate, keep the snapshot, write the metrics and the checkpoint."""
    cfg, epoch = job.cfg, state.epoch + 1
    start = time.perf_counter()
    losses = train_epoch(job, state, epoch)
    epoch_seconds = time.perf_counter() - start
    state.wall_s += epoch_seconds
    job.seconds["train"] += epoch_seconds
    state.epoch = epoch
    mean_loss = losses.mean(0).tolist()
    if cfg.log_iterations:
        for kk, column in enumerate(losses.T.tolist()):
            state.iterations[kk].extend(column)
    mark_diverged(job, state, epoch, mean_loss)
    if epoch == cfg.epochs:
        state.status = ["finished" if s == "running" else s for s in state.status]
    if cfg.evaluates(epoch):
        evaluate_epoch(job, state, epoch, mean_loss)
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
        evaluate_epoch(job, state, 0, None)
        if 0 in snap_epochs:
            snapshot(job, state, "epoch_0")
        write_epoch_files(job, state)

    progress = Progress(job.name, cfg.epochs, state.epoch)
    job.group.train(True)
    try:
        while state.epoch < cfg.epochs and "running" in state.status:
            next_epoch(job, state, snap_epochs, progress)
    finally:
        progress.close()

    # the final weights, then the manifests and done.json
    write_final(job, state)
    seal(job, state)
    return state.status


# ---------------------------------------------------------------- jobs


def run_job(job: dict, data: Path, device: str) -> list[tuple[Run, str, str]]:
    """Train one job (runs, train config, out_dirs, group folder as JSON values); (run, folder, status) each. A
    group whose runs a results bundle gave, for this job and data, and whose files all check, is kept as it is,
    and nothing trains (GroupFolder.keep_imported)."""
    runs, home = [Run(**r) for r in job["runs"]], GroupFolder(job["group"])
    if home.imported_path.exists():
        trained = {k: v for k, v in job.items() if k != "device"}
        if home.keep_imported(trained, read_sealed_json(Path(data).with_suffix(".json"))["file_sha256"]):
            print(
                f"{home.path}: kept the runs {home.imported()['source']} gave (make retrain trains them here)",
                file=sys.stderr,
            )
            return [(run, entry["dir"], entry["status"]) for run, entry in zip(runs, home.done())]
    statuses = train_group(
        runs,
        TrainConfig.from_dict(job["train"]),
        Path(data),
        [Path(d) for d in job["out_dirs"]],
        Path(job["group"]),
        device,
    )
    return list(zip(runs, job["out_dirs"], statuses))


def run_claimed(job: dict, data: Path, threads: int, lock_dir: Path) -> list[tuple[Run, str, str]]:
    """A workflow's training job: `threads` for torch and for inductor's compile workers; on a machine that shows
    GPUs, one claimed for this job alone (devices.job_device) and made the current device, so that inductor and
    Triton use it too; then run_job."""
    torch.set_num_threads(threads)
    os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = str(threads)
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    uuids = [str(torch.cuda.get_device_properties(i).uuid) for i in range(gpus)]
    with job_device(job["device"], gpus, lock_dir, uuids) as device:
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        return run_job(job, data, device)


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
