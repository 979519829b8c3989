"""How the scorecard weighs a claim against its seeds.

A comparative claim is an effect whose sign the paper states (positive: the claimed direction), e.g.
L(plain) − L(residual) at one depth. It is estimated over seeds: paired by seed where the two sides
share a seed, and so a minibatch sequence (the difference per seed, then its mean and standard error);
otherwise from the two means and their standard errors. The verdict:

    holds         the effect is more than 2 se in the claimed direction, with n ≥ 3
    fails         it is more than 2 se the other way, with n ≥ 3
    inconclusive  it is within 2 se, or n < 3
    below scale   the scale is smaller than the smallest one at which the claim was seen to show
    not testable  the data is missing

Exact and deterministic checks (the float64 equivalence, closed forms, simulations with their Monte Carlo
errors) keep their own form: holds or fails.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOLDS, FAILS, INCONCLUSIVE, BELOW_SCALE, NOT_TESTABLE = "holds", "fails", "inconclusive", "below scale", "not testable"
VERDICTS = (HOLDS, FAILS, INCONCLUSIVE, BELOW_SCALE, NOT_TESTABLE)
MARGIN = 2.0  # standard errors an effect must clear
MIN_SEEDS = 3  # seeds a comparative verdict needs


@dataclass(frozen=True)
class Effect:
    """An effect in the claimed direction (positive: as the paper says), its standard error over seeds, n."""

    value: float
    se: float
    n: int
    paired: bool = True

    @property
    def missing(self) -> bool:
        return self.n == 0 or math.isnan(self.value)

    def verdict(self) -> str:
        if self.missing:
            return NOT_TESTABLE
        if self.n < MIN_SEEDS or math.isnan(self.se):
            return INCONCLUSIVE
        if self.value > MARGIN * self.se:
            return HOLDS
        if self.value < -MARGIN * self.se:
            return FAILS
        return INCONCLUSIVE

    def text(self, digits: int = 3) -> str:
        if self.missing:
            return "—"
        se = "" if math.isnan(self.se) else f" ± {self.se:.2g}"
        z = f", {self.value / self.se:+.1f} se" if self.se > 0 and not math.isnan(self.se) else ""
        return f"{self.value:.{digits}g}{se} (n={self.n}{', paired' if self.paired and self.n else ''}{z})"


NO_DATA = Effect(math.nan, math.nan, 0)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan


def paired(claimed: pd.Series, other: pd.Series) -> Effect:
    """claimed − other per seed (both indexed by seed), over the seeds both have: mean, se, n."""
    diff = (claimed - other).dropna().to_numpy(dtype=float)
    return Effect(*_mean_se(diff), len(diff), paired=True)


def one_sample(values: pd.Series) -> Effect:
    """The mean of per-seed effects (already in the claimed direction) and its se."""
    values = pd.Series(values).dropna().to_numpy(dtype=float)
    return Effect(*_mean_se(values), len(values), paired=True)


def unpaired(claimed: pd.Series, other: pd.Series) -> Effect:
    """mean(claimed) − mean(other) with the se of a difference of independent means; n the smaller count."""
    a, b = (pd.Series(s).dropna().to_numpy(dtype=float) for s in (claimed, other))
    if not len(a) or not len(b):
        return NO_DATA
    (ma, sa), (mb, sb) = _mean_se(a), _mean_se(b)
    return Effect(ma - mb, math.hypot(sa, sb), min(len(a), len(b)), paired=False)


@dataclass(frozen=True)
class Row:
    """One line of the scorecard: a claim (its key names it in config `claims.show_from`) and its verdict."""

    target: str
    key: str
    claim: str
    verdict: str
    effect: Effect = NO_DATA
    detail: str = ""


def weighed(target: str, key: str, claim: str, effect: Effect, detail: str = "") -> Row:
    """A comparative claim: its verdict from the effect's size against its seed spread."""
    return Row(target, key, claim, effect.verdict(), effect, detail)


def exact(target: str, key: str, claim: str, ok: bool | None, detail: str = "", effect: Effect = NO_DATA) -> Row:
    """An exact or deterministic check: holds or fails by its own rule (None: not testable)."""
    return Row(target, key, claim, NOT_TESTABLE if ok is None else HOLDS if ok else FAILS, effect, detail)


def at_scale(row: Row, scale: str, ladder: list[str], show_from: dict[str, str]) -> Row:
    """The row as the scale can support it: `below scale` where `scale` ranks below the smallest scale at
    which its claim was seen to show (the verdict the data alone gives is kept in the detail)."""
    needed = show_from.get(row.key)
    if needed is None or row.verdict == NOT_TESTABLE or scale not in ladder or needed not in ladder:
        return row
    if ladder.index(scale) >= ladder.index(needed):
        return row
    detail = f"shows from scale `{needed}`; the data here alone reads {row.verdict}" + (
        f"; {row.detail}" if row.detail else ""
    )
    return Row(row.target, row.key, row.claim, BELOW_SCALE, row.effect, detail)
