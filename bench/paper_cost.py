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
    """Jobs, runs, image passes, and image passes in units of the bench net's (`weighted_passes`); apart, in those
    units, the training passes (`weighted_train`) and the evaluation forwards, each a whole image (`weighted_eval`)."""
    jobs = runs = passes = weighted_train = weighted_eval = 0
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
            weight = net_multiply_adds(run.arch, run.depth, classes) / reference
            passes += cfg.epochs * train + evaluations * (train + test) / 3
            weighted_train += cfg.epochs * train * weight
            weighted_eval += evaluations * (train + test) * weight
    return {
        "jobs": jobs,
        "runs": runs,
        "image_passes": passes,
        "weighted_passes": weighted_train + weighted_eval / 3,
        "weighted_train": weighted_train,
        "weighted_eval": weighted_eval,
    }


def hours(c: dict, images_per_second: float, eval_images_per_second: float | None = None) -> float:
    """GPU- or CPU-hours of cost `c` at a measured training throughput; with the evaluation's own measured
    throughput its forwards are priced at it, otherwise each as a third of a training pass."""
    if eval_images_per_second is None:
        return c["weighted_passes"] / images_per_second / 3600
    return (c["weighted_train"] / images_per_second + c["weighted_eval"] / eval_images_per_second) / 3600


def scale_config(scale: str, group_size: int | None = None) -> dict:
    """config.yaml resolved at `scale`, with `group_size` runs per training job where given."""
    overrides = {"scale": scale, **({"group_size": group_size} if group_size else {})}
    return configuration.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), overrides)


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
    ap.add_argument(
        "--eval-images-per-second",
        type=float,
        help="its measured evaluation throughput (bench/bench_train.py's eval images/s); default: a third of a "
        "training pass per image",
    )
    args = ap.parse_args(argv)
    config = scale_config(args.scale, args.group_size)
    c = cost(config)
    evaluation = f", evaluation at {args.eval_images_per_second:,.0f}" if args.eval_images_per_second else ""
    print(
        f"scale {args.scale}, group_size {config['group_size']}: {c['jobs']} training jobs, {c['runs']} runs, "
        f"{c['image_passes']:.3g} image passes = {c['weighted_passes']:.3g} passes "
        f"of the depth-20 net → {hours(c, args.images_per_second, args.eval_images_per_second):,.2f} hours at "
        f"{args.images_per_second:,.0f} images/s{evaluation}"
    )


if __name__ == "__main__":
    main()
