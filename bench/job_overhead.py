"""Where a build's training jobs spent their time: per job, Snakemake's wall seconds (results/benchmarks/train)
against the engine's own account in done.json (setup, train, evaluate, write), and the overhead outside training
and evaluation: starting Python, imports, reading the data, building the models, writing files.

    python bench/job_overhead.py results          # a finished build's results folder
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import pandas as pd


def jobs(results: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted((results / "benchmarks" / "train").glob("*/*.tsv")):
        experiment, group = tsv.parent.name, tsv.stem
        done = results / "runs" / experiment / "_groups" / group / "done.json"
        if not done.exists():
            continue
        seconds = json.loads(done.read_text()).get("seconds")
        if not seconds:
            continue
        wall = float(pd.read_csv(tsv, sep="\t")["s"].iloc[-1])
        rows.append(
            {
                "experiment": experiment,
                "group": group,
                "wall_s": wall,
                **seconds,
                "overhead_s": wall - seconds["train"] - seconds["evaluate"],
            }
        )
    return pd.DataFrame(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    args = ap.parse_args()
    table = jobs(args.results)
    if table.empty:
        raise SystemExit(f"{args.results}: no training job with a benchmark and timed done.json")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    o = table.overhead_s
    print(
        f"\n{len(table)} jobs: overhead outside training and evaluation median {statistics.median(o):.2f} s, "
        f"max {o.max():.2f} s; of it, the engine's setup median {table.setup.median():.2f} s and writes "
        f"{table.write.median():.2f} s; the rest is Python, imports and Snakemake's script preamble"
    )


if __name__ == "__main__":
    main()
