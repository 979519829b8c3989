"""Evaluation against training, per image, on this machine: the engine's evaluation forward (eval mode,
inference_mode) in each memory layout and batch size, against its training step (case (b) of bench_train.py),
measured side by side in one process, so the ratio holds however fast the machine is today.

    python bench/bench_eval.py                    # simplified depth-20 residual net, float32
    python bench/bench_eval.py --depth 8 --batches 125 250 500 1000

Prints images/s of each evaluation setting and its cost per image as a fraction of a training pass; the
engine evaluates one float32 model in channels_last at `eval_batch_size` (config.yaml) on a CPU.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import torch

from plainres.data import synthetic
from plainres.minibatches import DeviceData, epoch_plan
from plainres.runs import Run, TrainConfig
from plainres.seedgroup import SeedGroup, make_model
from plainres.sgd import MomentumSGD
from plainres.step import Step
from plainres.train import pick_device


def rate(fn, images: int, repeats: int) -> float:
    """Images/s of fn(), the best of `repeats` timed calls after one warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return images / best


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="simplified")
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--images", type=int, default=2000, help="images per timed evaluation (and per training timing)")
    ap.add_argument("--batches", type=int, nargs="*", default=[125, 250, 500, 1000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    device = pick_device(args.device)
    data = synthetic(args.images, 10)
    dd = DeviceData(data, {"channel_mean": [128.0] * 3, "channel_std": [64.0] * 3}, device, torch.float32)
    run = Run(args.arch, "residual", args.depth, "hmwi" if args.arch != "fully-fledged" else "kwi", 0)
    group = SeedGroup([make_model(run).to(device)], decay_on_T_inverse=False)

    cfg = TrainConfig(epochs=1, lr=0.01, compile="off")
    optimiser = MomentumSGD(list(group.params.values()), lr=cfg.lr, momentum=cfg.momentum)
    step = Step(group, dd, cfg, optimiser, torch.autocast(device.type, enabled=False), device)
    plan = epoch_plan(args.images, 0, 1, cfg.crop_padding, cfg.flip)[None].to(device)

    def train_pass():  # what one training image costs in the engine: its step (step.py), batch 128
        for i in range(0, args.images, 128):
            step(plan[:, :, i : i + 128], cfg.lr)
        if device.type == "cuda":
            torch.cuda.synchronize()

    def evaluation(batch: int, channels_last: bool):
        def fn():
            group.train(False)
            forward = group.inference(channels_last, copy_weights=channels_last)  # as evaluation.py on a CPU
            with torch.inference_mode():
                for i in range(0, args.images, batch):
                    forward(dd.normalise(dd.train_x[i : i + batch]))
            if device.type == "cuda":
                torch.cuda.synchronize()
            group.train(True)

        return fn

    train_rate = rate(train_pass, args.images, args.repeats)
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU ({os.cpu_count()} cores, {platform.processor() or platform.machine()})"
    )
    print(
        f"{args.arch} depth-{args.depth} residual net, float32, {args.images} images; {name}; "
        f"torch {torch.__version__}; {datetime.date.today()}\n"
    )
    print("| what | batch | images/s | per image, × a training pass |\n|---|---:|---:|---:|")
    print(f"| training step (forward, backward, SGD) | 128 | {train_rate:,.0f} | 1 |")
    for channels_last in (False, True):
        for batch in args.batches:
            r = rate(evaluation(batch, channels_last), args.images, args.repeats)
            layout = "channels_last" if channels_last else "contiguous"
            print(f"| evaluation forward, {layout} | {batch} | {r:,.0f} | {train_rate / r:.2f} |")


if __name__ == "__main__":
    main()
