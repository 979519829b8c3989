"""The curves of the runs a figure reads (one row per run and evaluated epoch), a run's every SGD step, and the
figures drawn from them (YT Figs 2, 6, 9)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..collect import runs_of, split_diverged
from ..runfolder import RunFolder
from ..targets import Made
from .style import count_diverged
from .yt import fig2, fig6, fig9


def curves(done_files: list[Path]) -> pd.DataFrame:
    """One row per (run, evaluated epoch): the run's identity and provenance, epoch, SGD steps, L, E."""
    rows = []
    for run, metrics in runs_of(done_files):
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
# Each f(done, spec, images) → targets.Made: the curves of the runs its training jobs recorded (`done`: their
# done.json), and the figure drawn from them with its settings; the target registry (plainres.targets) names them.


def yt_fig2(done: list[Path], spec: dict, images: None = None) -> Made:
    frame = curves(done)
    return Made(read=frame, figure=fig2(frame, spec["depth"], spec["reach_loss"]))


def yt_fig6(done: list[Path], spec: dict, images: None = None) -> Made:
    """The seed pairs (plain, residual) at the depth, each run's every SGD step."""
    frame = curves(done)
    at = frame[(frame.depth == spec["depth"]) & (frame.epoch == 0)]
    dirs = {(r.net, r.seed): r.dir for r in at.itertuples()}
    if not any(net == "plain" and ("residual", s) in dirs for net, s in dirs):
        raise ValueError(f"yt_fig6: no plain/residual pair at depth {spec['depth']}")
    ok, diverged = split_diverged(at)
    dirs = {(r.net, r.seed): r.dir for r in ok.itertuples()}
    seeds = sorted(s for net, s in dirs if net == "plain" and ("residual", s) in dirs)
    figure = fig6(
        [(s, iterations(dirs["plain", s]), iterations(dirs["residual", s])) for s in seeds],
        spec["depth"],
        count_diverged(diverged),
    )
    return Made(read=frame, figure=figure)


def yt_fig9(done: list[Path], spec: dict, images: None = None) -> Made:
    frame = curves(done)
    return Made(read=frame, figure=fig9(frame, spec["left_depths"]))
