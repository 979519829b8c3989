"""The runs a target reads: every run its training jobs recorded (each group's done.json), each with its identity,
provenance and status, its metrics checked as they are read (runfolder.RunFolder)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .runfolder import GroupFolder, RunFolder


def origins(done_files: list[Path]) -> str:
    """Where the training jobs' runs were trained: here, or the results bundles they were imported from (each
    group's imported.json)."""
    found = set()
    for done in done_files:
        imported = GroupFolder.of(done).imported()
        found.add(
            "trained here"
            if imported is None
            else f"bundle {imported['source']} (sha256 {imported['archive_sha256'][:16]})"
        )
    return ", ".join(sorted(found))


def trained_by(done_files: list[Path]) -> str:
    """The code, torch and devices that trained the jobs' runs (each run's config.json), and where (origins)."""
    seen = {"code_version": set(), "torch_version": set(), "device_name": set()}
    for done in done_files:
        for entry in GroupFolder.of(done).done():
            config = RunFolder(entry["dir"]).config()
            for key, values in seen.items():
                values.add(config[key])
    code, torch, device = (", ".join(sorted(values)) for values in seen.values())
    return f"code {code} (torch {torch}, on {device}); {origins(done_files)}"


def runs_of(done_files: list[Path]):
    """Every run the training jobs recorded: (identity and provenance, its evaluated metric rows)."""
    for done in done_files:
        for entry in GroupFolder.of(done).done():
            folder = RunFolder(entry["dir"])
            config = folder.config()
            metrics = [r for r in folder.metrics() if r["train_loss"] != ""]
            run = config["run"]
            # simplified and fully-fledged nets are 'plain'/'residual' (their arch is a column of its own);
            # the dominant-path nets of Table 5 are named by their arch
            label = run["net"] if run["arch"] in ("simplified", "fully-fledged") else run["arch"]
            yield (
                {
                    **run,
                    "net": label,
                    "run_id": entry["run_id"],
                    "status": entry["status"],
                    "dir": str(folder.path),
                    "train_subset": config["train"]["train_subset"],
                    "dtype": config["train"]["dtype"],
                    "dataset": config["data"]["dataset"],
                    "device": config["device_name"],
                    "torch": config["torch_version"],
                    "code": config["code_version"],
                    "data_source": json.dumps(config["data"]["source"]),
                },
                metrics,
            )


def collect(done_files: list[Path]) -> pd.DataFrame:
    """One row per run: identity, status, and the first and last evaluated metrics."""
    rows = []
    for run, metrics in runs_of(done_files):
        first, last = metrics[0], metrics[-1]
        rows.append(
            {
                **run,
                "epochs": int(last["epoch"]),
                "L_before": float(first["train_loss"]),
                "reg_before": float(first["weight_reg"]),
                "L": float(last["train_loss"]),
                "reg": float(last["weight_reg"]),
                "C": float(last["cost"]),
                "E": float(last["test_error"]),
            }
        )
    return pd.DataFrame(rows)


def first_seeds(runs: pd.DataFrame, n: int) -> pd.Series:
    """Which rows of `runs` belong to its n lowest seeds: a target's `seeds: n` (seed_offset, seed_offset + 1, …)."""
    return runs.seed.isin(sorted(runs.seed.unique())[:n])


def nth_seed(runs: pd.DataFrame, k: int) -> pd.Series:
    """Which rows of `runs` belong to its (k+1)-th lowest seed: a target's `seed: k`."""
    seeds = sorted(runs.seed.unique())
    return runs.seed == (seeds[k] if k < len(seeds) else None)


def split_diverged(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows of runs that finished, those of runs that diverged): a diverged run is in no mean or histogram."""
    if "status" not in runs:
        return runs, runs.iloc[:0]
    gone = runs.status == "diverged"
    return runs[~gone], runs[gone]


def diverged_caption(caption: str, runs: pd.DataFrame) -> str:
    """The caption, naming the runs read (a row each, or a curve's rows each) that diverged (left out of every mean
    and histogram), where any did."""
    gone = split_diverged(runs)[1]
    if gone.empty:
        return caption
    runs, gone = runs.drop_duplicates("dir"), gone.drop_duplicates("dir")
    return f"{caption} Diverged and left out: {len(gone)} of {len(runs)} runs ({', '.join(gone.run_id)})."
