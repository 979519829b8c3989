"""Wall time of YT Fig 11's and Fig 13's tables on this machine, at one scale of the proposed config.

    python bench/bench_simulate.py                       # paper scale, 2 threads
    python bench/bench_simulate.py --scale quick --threads 1
    python bench/bench_simulate.py --per-point           # also the seconds of every Fig 11 point

Prints a Markdown table: each stage, its size, and seconds (one run: the Fig 11 table is minutes long at
paper scale, and its cost is the sum of its points, which --per-point lists). The grids below are the
config.yaml proposal for `simulations:` (YT Fig 11: 6 panels, 100,000 trials per point per net).
The Monte Carlo runs in numpy over `threads` worker threads (torch is not used, so torch's thread count
plays no part); the machine's other load is printed with the result, since it can change it a lot.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time

import numpy as np

from plainres.simulate import gaussian, trivial

DEFAULTS = {"n": 20, "eps": 0.1, "L": 10, "l": 5, "p": 0.9, "sigma_A": 0.01, "sigma_V": 0.1}
PAPER_SWEEPS = {
    "n": [2, 3, 5, 7, 10, 15, 20, 30, 50],
    "l": [1, 2, 3, 4, 5, 6, 7, 8, 9],
    "sigma_A": [1.0e-4, 1.0e-3, 1.0e-2, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0],
    "sigma_V": [1.0e-3, 1.0e-2, 0.1, 1.0, 10.0],
    "p": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "eps": [1.0e-3, 1.0e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0],
}
SMOKE_SWEEPS = {
    "n": [2, 20],
    "l": [1, 9],
    "sigma_A": [1.0e-3, 1.0],
    "sigma_V": [0.1, 10.0],
    "p": [0.5, 1.0],
    "eps": [0.1, 10.0],
}
SCALES = {  # trials per point and net; Fig 13: grid points, error grid points, Monte Carlo draws per r
    "paper": {"sweeps": PAPER_SWEEPS, "trials": 100_000, "points": 241, "error_grid": 20_001, "mc_trials": 1_000_000},
    "quick": {"sweeps": PAPER_SWEEPS, "trials": 10_000, "points": 241, "error_grid": 20_001, "mc_trials": 100_000},
    "smoke": {"sweeps": SMOKE_SWEEPS, "trials": 200, "points": 41, "error_grid": 2_001, "mc_trials": 10_000},
}
MC_R = [0.01, 0.1, 0.5, 1.0, 2.0, 10.0, 100.0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="paper")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--trials", type=int, default=None, help="override the scale's trials per point")
    parser.add_argument("--per-point", action="store_true")
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    trials = args.trials or scale["trials"]
    sweeps = scale["sweeps"]
    points = sum(len(v) for v in sweeps.values())
    print(
        f"{datetime.date.today()} · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
        f"{args.threads} threads · numpy {np.__version__} · Python {platform.python_version()} · "
        f"load average {os.getloadavg()[0]:.2f} · float64\n"
    )
    print("| stage | size | seconds |\n|---|---|---:|")

    start = time.perf_counter()
    table13 = gaussian.phi_table(1e-3, 1e3, scale["points"])
    gaussian.approx_max_error(1.2, 1e-3, 1e3, scale["error_grid"])
    gaussian.phi_monte_carlo_table(MC_R, scale["mc_trials"], 0)
    print(
        f"| Fig 13: φ table, max error, Monte Carlo | {len(table13)} r, {scale['error_grid']:,}-point error grid, "
        f"{len(MC_R)} × {scale['mc_trials']:,} draws | {time.perf_counter() - start:.3g} |",
        flush=True,
    )

    start = time.perf_counter()
    if args.per_point:
        for parameter, values in sweeps.items():
            for value in values:
                t = time.perf_counter()
                trivial.fig11_table(DEFAULTS, {parameter: [value]}, trials, 0, threads=args.threads)
                print(
                    f"| Fig 11 point {parameter} = {value:g} | 2 nets × {trials:,} trials | "
                    f"{time.perf_counter() - t:.3g} |",
                    flush=True,
                )
    else:
        trivial.fig11_table(DEFAULTS, sweeps, trials, 0, threads=args.threads)
    print(
        f"| Fig 11: the whole table | {len(sweeps)} panels, {points} points × 2 nets × {trials:,} trials | "
        f"{time.perf_counter() - start:.3g} |"
    )
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
