"""The runs a figure reads: their curves (one row per evaluated epoch), a run's every SGD step, and the figures
drawn from their experiment's runs (Figs 2, 6, 9)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..runfolder import RunFolder
from ..tables import read_runs, split_diverged
from .style import count_diverged
from .yt import fig2, fig6, fig9


def curves(done_files: list[Path]) -> pd.DataFrame:
    """One row per (run, evaluated epoch): the run's identity and provenance, epoch, SGD steps, L, E."""
    rows = []
    for run, metrics in read_runs(done_files):
        for m in metrics:
            rows.append(
                {
                    **run,
                    "epoch": int(m["epoch"]),
                    "iteration": int(m["iteration"]),
                    "L": float(m["train_loss"]),
                    "E": float(m["test_error"]),
                }
            )
    return pd.DataFrame(rows)


def iterations(run_dir: str) -> pd.DataFrame:
    """A run's iterations.csv: every SGD step's minibatch loss (float64 repr, exact)."""
    rows = RunFolder(run_dir).iterations()
    return pd.DataFrame(
        {
            "iteration": [int(r["iteration"]) for r in rows],
            "epoch": [int(r["epoch"]) for r in rows],
            "L": [float(r["minibatch_loss"]) for r in rows],
        }
    )


# ---------------------------------------------------------------- a target's figure from its runs
# Each f(curves, spec) → (figure, plotted data), from the runs of its experiment (`curves`) and its settings;
# the target registry (plainres.targets) names them.


def draw_fig2(frame: pd.DataFrame, spec: dict):
    return fig2(frame, spec["depth"], spec["reach_loss"])


def draw_fig6(frame: pd.DataFrame, spec: dict):
    """The seed pairs (plain, residual) at the depth, each run's every SGD step."""
    at = frame[(frame.depth == spec["depth"]) & (frame.epoch == 0)]
    dirs = {(r.net, r.seed): r.dir for r in at.itertuples()}
    if not any(net == "plain" and ("residual", s) in dirs for net, s in dirs):
        raise ValueError(f"yt_fig6: no plain/residual pair at depth {spec['depth']}")
    ok, diverged = split_diverged(at)
    dirs = {(r.net, r.seed): r.dir for r in ok.itertuples()}
    seeds = sorted(s for net, s in dirs if net == "plain" and ("residual", s) in dirs)
    return fig6(
        [(s, iterations(dirs["plain", s]), iterations(dirs["residual", s])) for s in seeds],
        spec["depth"],
        count_diverged(diverged),
    )


def draw_fig9(frame: pd.DataFrame, spec: dict):
    return fig9(frame, spec["left_depths"])
