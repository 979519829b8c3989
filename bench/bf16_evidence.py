"""May the grids train in bf16? Train the depth-20 plain (KWI) / residual (HMWI) pair in float32 and
with bf16 autocast, several seeds each (one seed group per case), and compare final L and E.

    python bench/bf16_evidence.py --data results/data/cifar10/<key>.pt --epochs 200          # paper scale, GPU
    python bench/bf16_evidence.py --data results/data/cifar10/<key>.pt --epochs 3 --subset 5000 --seeds 3  # CPU

Verdict per net and metric: bf16 is indistinguishable when |mean_bf16 − mean_fp32| is below the
seed-to-seed standard deviation (the larger of the two dtypes'); otherwise it differs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from plainres.runfolder import RunFolder
from plainres.runs import Run, TrainConfig
from plainres.train import train_group

PAIR = (Run("simplified", "plain", 20, "kwi", 0), Run("simplified", "residual", 20, "hmwi", 0))


def final_metrics(data: Path, run: Run, cfg: TrainConfig, seeds: int, work: Path, device: str):
    runs = [replace(run, seed=s) for s in range(seeds)]
    tag = f"{run.run_id}-{'bf16' if cfg.bf16 else 'fp32'}"
    outs = [work / tag / r.run_id for r in runs]
    train_group(runs, cfg, data, outs, work / tag, device)
    rows = [RunFolder(o).metrics()[-1] for o in outs]
    return [float(r["train_loss"]) for r in rows], [float(r["test_error"]) for r in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a cached dataset (the data stage's .pt)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument(
        "--milestones",
        type=int,
        nargs="*",
        default=None,
        help="lr ÷10 after these epochs (default: 60%% and 80%% of --epochs, as 120/160 of 200)",
    )
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    milestones = (
        tuple(args.milestones) if args.milestones is not None else (round(0.6 * args.epochs), round(0.8 * args.epochs))
    )
    cfg = TrainConfig(
        epochs=args.epochs,
        lr=args.lr,
        milestones=milestones,
        train_subset=args.subset,
        eval_every=args.epochs,
        snapshot_epochs=(),
        snapshot_iterations=(),
    )
    lines = [
        "| net | metric | float32 mean ± sd | bf16 mean ± sd | |Δ mean| | seed sd | verdict |",
        "|---|---|---|---|---:|---:|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for run in PAIR:
            fp32 = final_metrics(args.data, run, cfg, args.seeds, Path(tmp), args.device)
            bf16 = final_metrics(args.data, run, replace(cfg, bf16=True), args.seeds, Path(tmp), args.device)
            for i, metric in enumerate(("L", "E")):
                a, b = fp32[i], bf16[i]
                delta = abs(statistics.mean(b) - statistics.mean(a))
                spread = max(statistics.stdev(a), statistics.stdev(b))
                verdict = "indistinguishable" if delta < spread else "differs"
                lines.append(
                    f"| {run.net} | {metric} | {statistics.mean(a):.4f} ± {statistics.stdev(a):.4f} | "
                    f"{statistics.mean(b):.4f} ± {statistics.stdev(b):.4f} | {delta:.4f} | {spread:.4f} | {verdict} |"
                )
    print(
        f"\ndepth-20 pair, {args.epochs} epochs, lr {args.lr}, milestones {milestones}, {args.seeds} seeds, "
        f"{args.subset or 'all'} training images\n",
        file=sys.stderr,
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
