"""What every target's claims share: the runs that finished, a value per seed, the note naming the diverged
runs, and the claim that holds in every case."""

from __future__ import annotations

import math

import pandas as pd

from ..collect import split_diverged
from ..evidence import FAILS, HOLDS, INCONCLUSIVE, NO_DATA, NOT_TESTABLE, Effect, Row

# ---------------------------------------------------------------- helpers


def finished(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that did not diverge (diverged runs are counted in the details, never averaged)."""
    return split_diverged(runs)[0]


def by_seed(frame: pd.DataFrame, value: str, **where) -> pd.Series:
    """`value` per seed of the rows matching `where` (one row per seed)."""
    hit = frame
    for column, wanted in where.items():
        hit = hit[hit[column] == wanted]
    return hit.set_index("seed")[value].astype(float).sort_index()


def diverged_note(runs: pd.DataFrame, **where) -> str:
    """The evidence's note naming the runs matching `where` that diverged (none: '')."""
    if "status" not in runs:
        return ""
    hit = runs
    for column, wanted in where.items():
        hit = hit[hit[column] == wanted]
    gone = hit[hit.status == "diverged"]
    return f"; {len(gone)} diverged run(s) left out: {', '.join(gone.run_id)}" if len(gone) else ""


def with_diverged(data: pd.DataFrame, runs: pd.DataFrame | None) -> pd.DataFrame:
    """A target's measured data and a row (identity, status 'diverged', no values) for each run it read that
    diverged, so that its claims leave them out and name them; data that has a status column holds every run."""
    if runs is None or "status" in data or not (runs.status == "diverged").any():
        return data
    gone = runs[runs.status == "diverged"].drop_duplicates("dir" if "dir" in runs else "run_id")
    identity = [c for c in ("arch", "net", "dataset", "depth", "seed", "run_id", "status") if c in gone]
    return pd.concat([data, gone[identity]], ignore_index=True)


def all_of(target: str, key: str, claim: str, cases: dict[str, Effect], what: str = "cases", note: str = "") -> Row:
    """'The effect is there in every case': holds if every case holds, fails if any fails, not testable
    if none has data, else inconclusive; the weakest case (smallest effect/se) is the evidence shown;
    `note` (the diverged runs left out) ends the detail."""
    known = {k: e for k, e in cases.items() if not e.missing}
    if not known:
        return Row(target, key, claim, NOT_TESTABLE, NO_DATA, f"no {what} with data{note}")
    verdicts = {k: e.verdict() for k, e in known.items()}

    def z(e: Effect) -> float:
        return e.value / e.se if e.se > 0 else math.copysign(math.inf, e.value) if e.value else 0.0

    if any(v == FAILS for v in verdicts.values()):
        verdict, pick = FAILS, min((k for k, v in verdicts.items() if v == FAILS), key=lambda k: z(known[k]))
    elif all(v == HOLDS for v in verdicts.values()) and len(known) == len(cases):
        verdict, pick = HOLDS, min(known, key=lambda k: z(known[k]))
    else:
        verdict = INCONCLUSIVE
        pick = min((k for k, v in verdicts.items() if v != HOLDS), key=lambda k: z(known[k]), default=None)
        pick = pick or min(known, key=lambda k: z(known[k]))
    held = sum(v == HOLDS for v in verdicts.values())
    missing = f", {len(cases) - len(known)} without data" if len(known) < len(cases) else ""
    return Row(
        target, key, claim, verdict, known[pick], f"{held} of {len(cases)} {what} hold{missing}; weakest: {pick}{note}"
    )


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """Each run's last evaluated epoch."""
    return curves.loc[curves.groupby("run_id").epoch.idxmax()]
