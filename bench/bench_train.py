"""Training throughput of the simplified depth-20 net (or `--arch`/`--depth`): a conventional loop against
the engine.

    python bench/bench_train.py                      # full-sized data, GPU if present
    python bench/bench_train.py --subset 4096 --groups 8 --skip bf16   # a 2-core CPU
    python bench/bench_train.py --reference          # R, this machine's speed now, in under a minute
    python bench/bench_train.py --subset 2048 --epochs 3 --cases conventional fp32 fp32+compiled  # compiled?

R, the reference speed, is case (b) on 2,048 images, the mean over epochs 2 and 3 (epoch 1 warms up).
These machines are shared and their speed drifts from day to day, so CPU budgets are stated in image
passes, wall seconds × R, with R measured on the same machine within the same hour.

Prints one Markdown table of images/s (model-images per second: a group of K counts K images per
input image), each measured over the last of `--epochs` whole epochs, so warm-up is excluded:
  (a) conventional: Dataset + DataLoader workers, per-sample crop/flip, one model (float32)
  (b) engine, one run, float32      (c) engine, bf16 autocast
  (d) engine, seed groups of K      (e) engine, float64
  (f) engine, one run, float32, capturing ∂L/∂a⁽ᴸ⁾ of every sample (YT Fig 10): its cost against (b)
each engine case eager, or with `+compiled` (`--cases`) its step through torch.compile (step.py; CUDA graphs on
a GPU), compiled in the first epoch and so outside the timed one; `+cl` trains it in channels_last, `+nchw` in
NCHW (without either, as `channels_last: auto` chooses: step.in_channels_last).
The data is a synthetic CIFAR-shaped set of the real size: throughput does not depend on pixels.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from plainres.data import load_cached, save_cached, synthetic
from plainres.runfolder import RunFolder
from plainres.runs import Run, TrainConfig
from plainres.seedgroup import make_model
from plainres.step import compiles
from plainres.train import pick_device, setup, train_group
from plainres.transfer import weight_penalty

RUN = Run("simplified", "residual", 20, "hmwi", 0)


class CifarDataset(torch.utils.data.Dataset):
    """What a typical user writes: per-sample padding, random crop and flip on uint8 tensors."""

    def __init__(self, x, y, mean, std):
        self.x, self.y = x, y
        self.mean, self.std = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        img = F.pad(self.x[i], (4, 4, 4, 4))
        dy, dx = torch.randint(9, (2,)).tolist()
        img = img[:, dy : dy + 32, dx : dx + 32]
        if torch.rand(()) < 0.5:
            img = img.flip(-1)
        return (img.float() - self.mean) / self.std, self.y[i]


def conventional(net: Run, data_path: Path, cfg: TrainConfig, device: torch.device, workers: int) -> float:
    data, meta = load_cached(data_path)
    n = cfg.train_subset or len(data.train_y)
    ds = CifarDataset(data.train_x[:n], data.train_y[:n], meta["channel_mean"], meta["channel_std"])
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=cfg.batch_size,
        shuffle=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
    )
    model = make_model(net).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    for _ in range(cfg.epochs):
        start = time.perf_counter()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = F.cross_entropy(model(x), y) + cfg.weight_decay / 2 * weight_penalty(model)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    return n / seconds


def engine(
    net: Run,
    data_path: Path,
    cfg: TrainConfig,
    device: torch.device,
    k: int,
    work: Path,
    timed_epochs: int = 1,
    tag: str = "engine",
) -> dict:
    """Model-images per second of the engine over the last `timed_epochs` epochs, and how many seconds longer
    its first epoch took than a timed one (warm-up; a compiled step compiles there, outside the timed epochs);
    with what torch's own counters saw of its compiles (`compiled`)."""
    runs = [replace(net, seed=s) for s in range(k)]
    outs = [work / tag / r.run_id for r in runs]
    with compiled() as seen:
        train_group(runs, cfg, data_path, outs, work / tag, str(device))
    rows = RunFolder(outs[0]).metrics()
    seconds = float(rows[-1]["wall_s"]) - float(rows[-1 - timed_epochs]["wall_s"])
    used = RunFolder(outs[0]).config()["data_used"]
    n = int(used["train"])
    seen.update(expected_graphs(cfg, device, n, int(used["test"])))
    first = float(rows[1]["wall_s"]) - float(rows[0]["wall_s"])
    return {
        "images_per_s": k * n * timed_epochs / seconds,
        "first_epoch_extra_s": first - seconds / timed_epochs,
        **seen,
    }


def batch_shapes(n: int, batch: int) -> set[int]:
    """The batch sizes of a pass over n images in batches of `batch`: a full one, and a shorter last one."""
    return {min(n, batch)} | ({n % batch} if n > batch and n % batch else set())


@contextlib.contextmanager
def compiled():
    """What a job's compiles did, from torch's counters (zeroed first) and its warnings: the graphs compiled, CUDA
    graphs skipped, and any fallback to eager (`compile: auto` warns; `on` raises)."""
    from torch._dynamo.utils import counters

    seen = {}
    counters.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield seen
    seen.update(
        graphs=counters["stats"]["unique_graphs"],
        cudagraph_skips=counters["inductor"]["cudagraph_skips"],
        fallbacks=[str(w.message).splitlines()[0] for w in caught if "could not capture" in str(w.message)],
    )


def expected_graphs(cfg: TrainConfig, device: torch.device, n: int, n_test: int) -> dict:
    """How many graphs the step and the evaluation of a job on n training and n_test test images should compile:
    one per batch shape (more is a recompile)."""
    step = batch_shapes(n, cfg.batch_size) if compiles(cfg.compile, device) else set()
    eval_batch = cfg.eval_batch(device)
    evaluation = batch_shapes(n, eval_batch) | batch_shapes(n_test, eval_batch)
    evaluation = evaluation if compiles(cfg.compile_eval, device) else set()
    return {
        "step_compiled": bool(step),
        "eval_compiled": bool(evaluation),
        "graphs_expected": len(step) + len(evaluation),
    }


def evaluation_rate(net: Run, data_path: Path, cfg: TrainConfig, device: torch.device, k: int, work: Path) -> dict:
    """Model-images per second of a job's evaluation (train and test sets, eval mode, at its eval batch), the
    second of two passes (the first warms up and compiles where `compile_eval` does)."""
    runs = [replace(net, seed=s) for s in range(k)]
    job = setup(runs, cfg, data_path, [work / "eval" / r.run_id for r in runs], work / "eval", str(device), None, {})

    def both():
        job.evaluate(job.dd.train_x, job.dd.train_y)
        job.evaluate(job.dd.test_x, job.dd.test_y)
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    both()
    start = time.perf_counter()
    both()
    return {
        "eval_images_per_s": k * (len(job.dd.train_y) + len(job.dd.test_y)) / (time.perf_counter() - start),
        "eval_batch_size": job.evaluate.batch_size,
    }


def case(key: str, net: Run, data_path: Path, cfg: TrainConfig, device: torch.device, workers: int, work: Path):
    """(label, measurement) of one case key: conventional, fp32, bf16, fp64, group<K>, group<K>-bf16, capture;
    `+compiled` after an engine case compiles its step (TrainConfig compile: on), otherwise it runs eager; `+cl`
    trains in channels_last and `+nchw` in NCHW (TrainConfig channels_last; without either: auto)."""
    if key == "conventional":
        return (
            f"(a) conventional loop, {workers} workers, fp32",
            lambda: {"images_per_s": conventional(net, data_path, cfg, device, workers)},
        )
    base, *suffixes = key.split("+")
    if not set(suffixes) <= {"compiled", "cl", "nchw", "tf32"}:
        raise SystemExit(f"unknown case {key!r}")
    mode = "compiled" if "compiled" in suffixes else "eager"
    cfg = replace(
        cfg,
        compile="on" if "compiled" in suffixes else "off",
        channels_last="on" if "cl" in suffixes else "off" if "nchw" in suffixes else "auto",
        tf32="tf32" in suffixes,
    )
    k, precision = 1, "fp32"
    if base.startswith("group"):
        size, _, rest = base[len("group") :].partition("-")
        k, precision = int(size), rest or "fp32"
    elif base in ("bf16", "fp64"):
        precision = base
    elif base not in ("fp32", "capture"):
        raise SystemExit(f"unknown case {key!r}")
    cfg = replace(cfg, bf16=precision == "bf16", dtype="float64" if precision == "fp64" else "float32")
    precision += "+tf32" if cfg.tf32 else ""
    if base == "capture":
        cfg = replace(cfg, capture_final_grad_epochs=cfg.epochs)
    letter = {"fp32": "b", "bf16": "c", "fp64": "e", "capture": "f"}.get(base, "d")
    what = f"seed group of {k}" if k > 1 else "one run"
    extra = ", capturing ∂L/∂a⁽ᴸ⁾" if base == "capture" else ""
    layout = {"on": ", channels_last", "off": ", NCHW"}.get(cfg.channels_last, "")
    return (
        f"({letter}) engine {mode}, {what}, {precision}{layout}{extra}",
        lambda: {
            "k": k,
            "precision": precision,
            **engine(net, data_path, cfg, device, k, work, tag=key),
            **evaluation_rate(net, data_path, cfg, device, k, work / key),
        },
    )


def default_cases(args) -> list[str]:
    """Without --cases: (a)–(f) in eager mode, less --skip."""
    keys = ["conventional", "fp32", "bf16"]
    if "groups" not in args.skip:
        for k in args.groups:
            keys += [f"group{k}"] + ([f"group{k}-bf16"] if "bf16" not in args.skip else [])
    keys += ["fp64", "capture"]
    return [k for k in keys if k not in args.skip]


REFERENCE = {"subset": 2048, "epochs": 3, "timed_epochs": 2}  # R: case (b) on these, see the docstring


def reference_speed(device: torch.device) -> float:
    """R: case (b), the engine training one simplified depth-20 residual net in float32, images/s."""
    cfg = TrainConfig(
        epochs=REFERENCE["epochs"],
        lr=0.01,
        train_subset=REFERENCE["subset"],
        test_subset=256,
        snapshot_epochs=(),
        snapshot_iterations=(),
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_path = work / "cifar10.pt"
        save_cached(
            synthetic(REFERENCE["subset"], 256), {"kind": "synthetic"}, "cifar10", data_path, work / "cifar10.json"
        )
        return engine(RUN, data_path, cfg, device, 1, work, REFERENCE["timed_epochs"])["images_per_s"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all 50,000)")
    parser.add_argument("--epochs", type=int, default=2, help="whole epochs per case; the last one is timed")
    parser.add_argument("--groups", type=int, nargs="*", default=[8, 16, 32])
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["conventional", "fp32", "bf16", "fp64", "groups", "capture"]
    )
    parser.add_argument(
        "--cases",
        nargs="*",
        help="exactly these cases, in this order (instead of (a)–(f) and "
        "--skip): conventional, fp32, bf16, fp64, group<K>, group<K>-bf16, capture; "
        "add +compiled to an engine case to compile its step, +cl or +nchw to train in channels_last or "
        "NCHW (default: the engine's auto), "
        "e.g. group16-bf16+cl+compiled",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--deadline-s",
        type=float,
        default=None,
        help="start no case after this many seconds (the rest are named as skipped)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--arch", default=RUN.arch, help="the residual net timed (default: simplified)")
    parser.add_argument("--depth", type=int, default=RUN.depth)
    parser.add_argument(
        "--reference",
        action="store_true",
        help="print only R, case (b) on 2,048 images (the unit of the CPU budgets), and exit",
    )
    return parser.parse_args()


def print_reference(args: argparse.Namespace, device: torch.device, name: str) -> None:
    """R: case (b) on 2,048 images, printed (and written to --json)."""
    r = reference_speed(device)
    print(
        f"R = {r:.0f} images/s: case (b), {RUN.arch} depth-{RUN.depth} residual net, one run, fp32, "
        f"{REFERENCE['subset']} images, epochs 2–3 of 3; {name}; torch {torch.__version__}; "
        f"{datetime.datetime.now():%Y-%m-%d %H:%M}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "reference_images_per_s": r,
                    "device": name,
                    "torch": torch.__version__,
                    "time": datetime.datetime.now().isoformat(timespec="minutes"),
                }
            )
        )


def run_cases(args: argparse.Namespace, net: Run, device: torch.device, name: str) -> list[dict]:
    """Each case in turn, on synthetic full-sized data, until --deadline-s; written to --json after each. The lr
    drops at the start of the last epoch, so the timed epoch holds a milestone (a recompile there would show) as
    well as the epoch's short last minibatch where the subset leaves one. A case that fails is recorded with its
    error, and the next one runs."""
    cfg = TrainConfig(
        epochs=args.epochs,
        lr=0.01,
        milestones=(args.epochs - 1,) if args.epochs > 1 else (),
        train_subset=args.subset,
        eval_every=1,
        snapshot_epochs=(),
        snapshot_iterations=(),
        test_subset=1000,
    )
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_path = work / "cifar10.pt"
        save_cached(synthetic(50_000, 10_000), {"kind": "synthetic"}, "cifar10", data_path, work / "cifar10.json")
        started = time.monotonic()
        for i, key in enumerate(args.cases or default_cases(args)):
            label, fn = case(key, net, data_path, cfg, device, args.workers, work / str(i))
            if args.deadline_s and time.monotonic() - started > args.deadline_s:
                print(f"skipped {label}: past --deadline-s {args.deadline_s:.0f}", file=sys.stderr, flush=True)
                cases.append({"key": key, "case": label, "skipped": f"past --deadline-s {args.deadline_s:.0f}"})
                continue
            print(f"running {label} …", file=sys.stderr, flush=True)
            try:
                cases.append({"key": key, "case": label, **fn()})
                print(f"  {cases[-1]['images_per_s']:,.0f} images/s", file=sys.stderr, flush=True)
            except Exception as error:  # recorded; on a GPU a CUDA error may fail the cases after it too
                cases.append({"key": key, "case": label, "error": f"{type(error).__name__}: {error}"[:500]})
                print(f"  failed: {cases[-1]['error']}", file=sys.stderr, flush=True)
            if args.json:  # after every case, so a run cut short keeps what it measured
                write_json(args, net, device, name, cases)
    return cases


def main():
    args = parse_args()
    net = replace(RUN, arch=args.arch, depth=args.depth)  # the net every case times
    device = pick_device(args.device)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    )
    if args.reference:
        print_reference(args, device, name)
        return
    cases = run_cases(args, net, device, name)
    base = next((c["images_per_s"] for c in cases if c["key"] == "conventional" and "images_per_s" in c), None)
    n = args.subset or 50_000
    print(
        f"\n{net.arch} depth-{net.depth} residual net, batch 128, {n} images × {args.epochs} epochs (last timed); "
        f"{name}; torch {torch.__version__}; {datetime.date.today()}\n"
    )
    print("| case | images/s | × conventional | first epoch's extra s (warm-up, compile) |\n|---|---:|---:|---:|")
    for c in cases:
        if "images_per_s" not in c:
            print(f"| {c['case']} | {c.get('error') or 'skipped: ' + c['skipped']} | | |")
            continue
        ratio = f"{c['images_per_s'] / base:.1f}×" if base else "—"
        extra = f"{c['first_epoch_extra_s']:.1f}" if "first_epoch_extra_s" in c else "—"
        print(f"| {c['case']} | {c['images_per_s']:,.0f} | {ratio} | {extra} |")


def write_json(args, net: Run, device: torch.device, name: str, cases: list[dict]):
    args.json.write_text(
        json.dumps(
            {
                "device": name,
                "cuda": device.type == "cuda",
                "torch": torch.__version__,
                "subset": args.subset or 50_000,
                "arch": net.arch,
                "depth": net.depth,
                "epochs": args.epochs,
                "cases": cases,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
