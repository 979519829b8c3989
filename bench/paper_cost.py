"""What a scale of the pipeline costs in training: jobs submitted (with the config's group_size), runs, and
training image-passes (epochs × training images, plus the evaluation passes over train and test sets,
counted as one third of a training pass each: a forward pass without the backward), turned into hours by a
measured throughput.

    python bench/paper_cost.py --scale paper --images-per-second 589    # bench_train.py case (b) on the 2-core CPU
    python bench/paper_cost.py --scale paper --group-size 16 --images-per-second <GPU figure>
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from plainres import grid

REPO = Path(__file__).resolve().parents[1]
CIFAR_TRAIN, CIFAR_TEST = 50_000, 10_000


def cost(config: dict) -> dict:
    jobs = runs = passes = 0
    for name in config["experiments"]:
        jobs += len(grid.experiment_groups(config, name))
        for _, cfg in grid.experiment_runs(config, name):
            runs += 1
            train, test = cfg.train_subset or CIFAR_TRAIN, cfg.test_subset or CIFAR_TEST
            evaluations = cfg.epochs // cfg.eval_every + 1
            passes += cfg.epochs * train + evaluations * (train + test) / 3
    return {"jobs": jobs, "runs": runs, "image_passes": passes}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="paper")
    ap.add_argument("--group-size", type=int, default=None, help="runs per training job (default: config's)")
    ap.add_argument("--images-per-second", type=float, required=True,
                    help="measured training throughput of one run (bench/bench_train.py), model-images/s")
    args = ap.parse_args(argv)
    overrides = {"scale": args.scale, **({"group_size": args.group_size} if args.group_size else {})}
    config = grid.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), overrides)
    c = cost(config)
    hours = c["image_passes"] / args.images_per_second / 3600
    print(f"scale {args.scale}, group_size {config['group_size']}: {c['jobs']} training jobs, {c['runs']} runs, "
          f"{c['image_passes'] / 1e9:.2f} billion image passes → {hours:,.1f} hours at "
          f"{args.images_per_second:,.0f} images/s")


if __name__ == "__main__":
    main()
