"""What a scale of the pipeline costs in training: jobs submitted (with the config's group_size), runs, and
training image-passes, turned into hours by a measured throughput.

A run's image-passes are epochs × training images plus its evaluation passes over the train and test sets
(each counted as a third of a training pass: a forward pass without the backward). Nets differ in cost, so
every run's passes are weighted by its multiply-adds per image relative to the net `bench/bench_train.py`
times (the simplified depth-20 net, 40.6 million): the sum is in that net's image-passes, which its
measured throughput turns into hours. The weighting assumes compute-bound steps (true on a CPU; on a GPU,
for seed groups large enough to fill it).

    python bench/paper_cost.py --scale paper --images-per-second 589    # bench_train.py case (b) on the 2-core CPU
    python bench/paper_cost.py --scale paper --group-size 16 --images-per-second <GPU figure>
"""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path

import yaml
from bench_train import (
    RUN as BENCH_NET,  # the net whose throughput --images-per-second gives
)

from plainres import configuration, grid
from plainres.data import NUM_CLASSES
from plainres.models import build_model, multiply_adds

REPO = Path(__file__).resolve().parents[1]
CIFAR_TRAIN, CIFAR_TEST = 50_000, 10_000


@cache
def net_multiply_adds(arch: str, depth: int, classes: int) -> int:
    return multiply_adds(build_model(arch, "residual", depth, classes))


def cost(config: dict) -> dict:
    """Jobs, runs, image passes, and image passes in units of the bench net's (`weighted`)."""
    jobs = runs = passes = weighted = 0
    reference = net_multiply_adds(BENCH_NET.arch, BENCH_NET.depth, 10)
    trained = dict.fromkeys(
        g for name, groups in grid.training_jobs(config).items() if not configuration.is_study(name) for g in groups
    )  # a group shared by experiments once; the scale study apart
    for g in trained:
        jobs += 1
        classes = NUM_CLASSES[grid.experiment_dataset(config, g.experiment)]
        for run in g.runs:
            runs += 1
            cfg = g.train
            train, test = cfg.train_subset or CIFAR_TRAIN, cfg.test_subset or CIFAR_TEST
            evaluations = cfg.epochs // cfg.eval_every + 1
            run_passes = cfg.epochs * train + evaluations * (train + test) / 3
            passes += run_passes
            weighted += run_passes * net_multiply_adds(run.arch, run.depth, classes) / reference
    return {"jobs": jobs, "runs": runs, "image_passes": passes, "weighted_passes": weighted}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="paper")
    ap.add_argument("--group-size", type=int, default=None, help="runs per training job (default: config's)")
    ap.add_argument(
        "--images-per-second",
        type=float,
        required=True,
        help="measured training throughput of the simplified depth-20 net (bench/bench_train.py), model-images/s",
    )
    args = ap.parse_args(argv)
    overrides = {"scale": args.scale, **({"group_size": args.group_size} if args.group_size else {})}
    config = configuration.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), overrides)
    c = cost(config)
    hours = c["weighted_passes"] / args.images_per_second / 3600
    print(
        f"scale {args.scale}, group_size {config['group_size']}: {c['jobs']} training jobs, {c['runs']} runs, "
        f"{c['image_passes']:.3g} image passes = {c['weighted_passes']:.3g} passes "
        f"of the depth-20 net → {hours:,.2f} hours at {args.images_per_second:,.0f} images/s"
    )


if __name__ == "__main__":
    main()
