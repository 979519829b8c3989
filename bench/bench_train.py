"""Training throughput of the simplified depth-20 net (or `--arch`/`--depth`): a conventional loop against
the engine.

    python bench/bench_train.py                      # full-sized data, GPU if present
    python bench/bench_train.py --subset 4096 --groups 8 --skip bf16   # a 2-core CPU
    python bench/bench_train.py --reference          # R, this machine's speed now, in under a minute

R, the reference speed, is case (b) on 2,048 images, the mean over epochs 2 and 3 (epoch 1 warms up).
These machines are shared and their speed drifts from day to day, so CPU budgets are stated in image
passes, wall seconds × R, with R measured on the same machine within the same hour.

Prints one Markdown table of images/s (model-images per second: a group of K counts K images per
input image), each measured over the last of `--epochs` whole epochs, so warm-up is excluded:
  (a) conventional: Dataset + DataLoader workers, per-sample crop/flip, one model (float32)
  (b) engine, one run, float32      (c) engine, bf16 autocast
  (d) engine, seed groups of K      (e) engine, float64
  (f) engine, one run, float32, capturing ∂L/∂a⁽ᴸ⁾ of every sample (YT Fig 10): its cost against (b)
The data is a synthetic CIFAR-shaped set of the real size: throughput does not depend on pixels.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

from plainres.data import load_cached, save_cached, synthetic
from plainres.train import Run, TrainConfig, make_model, pick_device, read_metrics, train_group
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
        img = img[:, dy:dy + 32, dx:dx + 32]
        if torch.rand(()) < 0.5:
            img = img.flip(-1)
        return (img.float() - self.mean) / self.std, self.y[i]


def conventional(net: Run, data_path: Path, cfg: TrainConfig, device: torch.device, workers: int) -> float:
    data, meta = load_cached(data_path)
    n = cfg.train_subset or len(data.train_y)
    ds = CifarDataset(data.train_x[:n], data.train_y[:n], meta["channel_mean"], meta["channel_std"])
    loader = torch.utils.data.DataLoader(ds, batch_size=cfg.batch_size, shuffle=True, num_workers=workers,
                                         pin_memory=device.type == "cuda", persistent_workers=workers > 0)
    model = make_model(net).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum)
    for epoch in range(cfg.epochs):
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


def engine(net: Run, data_path: Path, cfg: TrainConfig, device: torch.device, k: int, work: Path,
           timed_epochs: int = 1) -> float:
    """Model-images per second of the engine over the last `timed_epochs` epochs."""
    runs = [replace(net, seed=s) for s in range(k)]
    tag = f"k{k}-{cfg.dtype}-{'bf16' if cfg.bf16 else 'nobf16'}-capture{cfg.capture_final_grad_epochs}"
    outs = [work / tag / r.run_id for r in runs]
    train_group(runs, cfg, data_path, outs, work / tag / "checkpoint.pt", str(device))
    rows = read_metrics(outs[0] / "metrics.csv")
    seconds = float(rows[-1]["wall_s"]) - float(rows[-1 - timed_epochs]["wall_s"])
    n = cfg.train_subset or int(json.loads((outs[0] / "config.json").read_text())["data_used"]["train"])
    return k * n * timed_epochs / seconds


REFERENCE = {"subset": 2048, "epochs": 3, "timed_epochs": 2}  # R: case (b) on these, see the docstring


def reference_speed(device: torch.device) -> float:
    """R: case (b), the engine training one simplified depth-20 residual net in float32, images/s."""
    cfg = TrainConfig(epochs=REFERENCE["epochs"], lr=0.01, train_subset=REFERENCE["subset"], test_subset=256,
                      snapshot_epochs=(), snapshot_iterations=())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_path = work / "cifar10.pt"
        save_cached(synthetic(REFERENCE["subset"], 256), {"kind": "synthetic"}, "cifar10", data_path,
                    work / "cifar10.json")
        return engine(RUN, data_path, cfg, device, 1, work, REFERENCE["timed_epochs"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subset", type=int, default=None, help="train on the first N images (default: all 50,000)")
    parser.add_argument("--epochs", type=int, default=2, help="whole epochs per case; the last one is timed")
    parser.add_argument("--groups", type=int, nargs="*", default=[8, 16, 32])
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--skip", nargs="*", default=[],
                        choices=["conventional", "fp32", "bf16", "fp64", "groups", "capture"])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--arch", default=RUN.arch, help="the residual net timed (default: simplified)")
    parser.add_argument("--depth", type=int, default=RUN.depth)
    parser.add_argument("--reference", action="store_true",
                        help="print only R, case (b) on 2,048 images (the unit of the CPU budgets), and exit")
    args = parser.parse_args()
    net = replace(RUN, arch=args.arch, depth=args.depth)  # the net every case times

    device = pick_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    if args.reference:
        r = reference_speed(device)
        print(f"R = {r:.0f} images/s: case (b), {RUN.arch} depth-{RUN.depth} residual net, one run, fp32, "
              f"{REFERENCE['subset']} images, epochs 2–3 of 3; {name}; torch {torch.__version__}; "
              f"{datetime.datetime.now():%Y-%m-%d %H:%M}")
        if args.json:
            args.json.write_text(json.dumps({"reference_images_per_s": r, "device": name, "torch": torch.__version__,
                                             "time": datetime.datetime.now().isoformat(timespec="minutes")}))
        return
    cfg = TrainConfig(epochs=args.epochs, lr=0.01, train_subset=args.subset, eval_every=1,
                      snapshot_epochs=(), snapshot_iterations=(), test_subset=1000)
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_path = work / "cifar10.pt"
        save_cached(synthetic(50_000, 10_000), {"kind": "synthetic"}, "cifar10", data_path, work / "cifar10.json")
        plan = [("conventional", f"(a) conventional loop, {args.workers} workers, fp32",
                 lambda: conventional(net, data_path, cfg, device, args.workers)),
                ("fp32", "(b) engine, one run, fp32", lambda: engine(net, data_path, cfg, device, 1, work)),
                ("bf16", "(c) engine, one run, bf16 autocast", lambda: engine(net, data_path, replace(cfg, bf16=True), device, 1, work))]
        if "groups" not in args.skip:
            for k in args.groups:
                plan.append((f"group{k}", f"(d) engine, seed group of {k}, fp32",
                             lambda k=k: engine(net, data_path, cfg, device, k, work)))
                if "bf16" not in args.skip:
                    plan.append((f"group{k}-bf16", f"(d) engine, seed group of {k}, bf16",
                                 lambda k=k: engine(net, data_path, replace(cfg, bf16=True), device, k, work)))
        plan.append(("fp64", "(e) engine, one run, float64", lambda: engine(net, data_path, replace(cfg, dtype="float64"), device, 1, work)))
        plan.append(("capture", "(f) engine, one run, fp32, capturing ∂L/∂a⁽ᴸ⁾",
                     lambda: engine(net, data_path, replace(cfg, capture_final_grad_epochs=cfg.epochs), device, 1, work)))
        for key, label, fn in plan:
            if key in args.skip:
                continue
            print(f"running {label} …", file=sys.stderr, flush=True)
            cases.append({"case": label, "images_per_s": fn()})
    base = cases[0]["images_per_s"] if "conventional" not in args.skip else None
    n = args.subset or 50_000
    print(f"\n{net.arch} depth-{net.depth} residual net, batch 128, {n} images × {args.epochs} epochs (last timed); "
          f"{name}; torch {torch.__version__}; {datetime.date.today()}\n")
    print("| case | images/s | × conventional |\n|---|---:|---:|")
    for c in cases:
        ratio = f"{c['images_per_s'] / base:.1f}×" if base else "—"
        print(f"| {c['case']} | {c['images_per_s']:,.0f} | {ratio} |")
    if args.json:
        args.json.write_text(json.dumps({"device": name, "torch": torch.__version__, "subset": n,
                                         "arch": net.arch, "depth": net.depth,
                                         "epochs": args.epochs, "cases": cases}, indent=2))


if __name__ == "__main__":
    main()
