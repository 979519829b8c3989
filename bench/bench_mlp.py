"""Wall time of LW Fig 1(d, e)'s MLP runs at one scale of config.yaml: the runs trained together (the pipeline's
way: residual_mlp.train_many, a batched net per process) or apart (one run per process, `--threads` at a time).

    python bench/bench_mlp.py --scale laptop --net bn --mode together     # what lw_fig1_d trains
    python bench/bench_mlp.py --scale laptop --net bn --mode apart        # the same runs one at a time

Prints one line: the runs, the steps each takes, the mode, the wall seconds and the machine's load. Time the
two modes side by side (e.g. alternately under /usr/bin/time, with R beside them: docs/engine.md).
"""

from __future__ import annotations

import argparse
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

from paper_cost import scale_config

from plainres.simulate import builders, residual_mlp
from plainres.targets import TARGETS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="laptop")
    parser.add_argument("--net", choices=["bn", "no_bn"], default="bn", help="Fig 1(d) (bn) or Fig 1(e) (no_bn)")
    parser.add_argument("--mode", choices=["together", "apart"], default="together")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    config = scale_config(args.scale)
    target = "lw_fig1_d" if args.net == "bn" else "lw_fig1_e"
    spec = TARGETS[target].spec(config)
    settings = list(builders.mlp_settings(spec, args.net == "bn").values())
    start = time.perf_counter()
    if args.mode == "together":
        residual_mlp.train_many(settings, args.threads)
    else:
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            list(pool.map(residual_mlp._train_in_a_process, [[{**residual_mlp.DEFAULTS, **s}] for s in settings]))
    seconds = time.perf_counter() - start
    common = {**residual_mlp.DEFAULTS, **settings[0]}
    steps = common["epochs"] * math.ceil(common["n_train"] / common["batch_size"])
    print(
        f"{target} at {args.scale}: {len(settings)} runs × {steps:,} steps, {args.mode}, {args.threads} threads: "
        f"{seconds:.1f} s (load average {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
