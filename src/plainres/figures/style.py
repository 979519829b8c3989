"""The figures' shared style: plain blue, residual red, line styles by depth; thick mean lines with sd error
bars, histograms, log loss axes; the diverged runs left out of every mean and counted in the legends."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

PLAIN, RESIDUAL = "tab:blue", "tab:red"


DEPTH_STYLES = ("-", ":", "--", "-.")


def mean_sd(frame: pd.DataFrame, by: list[str], x: str, quantity: str) -> pd.DataFrame:
    """Mean, sd (ddof 1; 0 for one seed) and n of `quantity` over seeds at every x."""
    g = frame.groupby([*by, x])[quantity]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "n": g.size()}).reset_index()
    return out.assign(quantity=quantity)


def errorbars(ax, stats: pd.DataFrame, x: str, color: str, label: str, style: str = "-"):
    """A thick mean line and thin sd error bars (at most ~40 of them, so long runs stay readable);
    markers too when there are few points."""
    ax.plot(
        stats[x], stats["mean"], style, color=color, lw=1.8, label=label, marker="o" if len(stats) <= 30 else None, ms=3
    )
    ax.errorbar(
        stats[x],
        stats["mean"],
        yerr=stats["sd"],
        fmt="none",
        ecolor=color,
        elinewidth=0.8,
        alpha=0.45,
        errorevery=max(1, len(stats) // 40),
    )


def histogram(
    ax, values: np.ndarray, edges: np.ndarray, color: str, label: str, alpha: float = 0.45, **columns
) -> pd.DataFrame:
    """Draw the histogram of `values` over `edges`; return its bins (left, right, count) with `columns`."""
    counts, _ = np.histogram(values, edges)
    ax.stairs(counts, edges, color=color, fill=True, alpha=alpha, label=label)
    return pd.DataFrame({**columns, "left": edges[:-1], "right": edges[1:], "count": counts})


def count_diverged(diverged: pd.DataFrame | None, **where) -> int:
    """How many of the diverged runs match `where` (column = value)."""
    if diverged is None or diverged.empty:
        return 0
    hit = diverged
    for column, wanted in where.items():
        hit = hit[hit[column] == wanted]
    return hit.run_id.nunique() if "run_id" in hit else len(hit)


def left_out(n: int) -> str:
    """A legend's note of the diverged runs left out of its line or histogram."""
    return f", {n} diverged (left out)" if n else ""


def nothing_drawn(ax, text: str) -> None:
    """A panel with nothing to draw says why (its runs all diverged)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4", wrap=True)


def stacked(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The plotted parts as one frame; an empty one with `columns` when nothing was drawn."""
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def loss_axis(ax, label: str):
    """A log-scale loss axis whose ticks read as plain numbers, also over a narrow range."""

    def minor(v, _):  # minor ticks are labelled only when the axis spans less than a decade
        lo, hi = ax.get_ylim()
        return f"{v:g}" if lo > 0 and hi / lo < 10 else ""

    ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=7)


def epoch_axis(ax):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
