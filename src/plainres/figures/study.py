"""The scale study's figure: each claim's effect in standard errors against training."""

from __future__ import annotations

import textwrap

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator

from .style import DEPTH_STYLES


def scale_study(table: pd.DataFrame):
    """One panel per claim: the effect in standard errors over seeds (effect / se) against SGD steps, one line per
    setting and case (depth); dotted at ±2 se, where a claim holds (above) or fails (below) with n ≥ 3 seeds.
    table: study.effects."""
    keys = list(dict.fromkeys(table.key))
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), constrained_layout=True, squeeze=False)
    styles = dict(zip(dict.fromkeys(table.setting), DEPTH_STYLES * 4))
    plotted = []
    for ax, key in zip(axes.flat, keys):
        at = table[table.key == key]
        cases = list(dict.fromkeys(at.case))
        colours = dict(zip(cases, plt.cm.viridis(np.linspace(0.0, 0.85, len(cases)))))
        drawn = False
        for (setting, case), line in at.groupby(["setting", "case"], sort=False):
            line = line.sort_values("steps")
            z = line.effect / line.se.where(line.se > 0)
            plotted.append(line.assign(z=z))
            if z.notna().any():
                ax.plot(
                    line.steps,
                    z,
                    styles[setting],
                    color=colours[case],
                    lw=1.5,
                    marker="o",
                    ms=2.5,
                    label=f"{setting}{', ' + case if case else ''}",
                )
                drawn = True
        for level in (2, -2):
            ax.axhline(level, color="0.4", ls=":", lw=1.0)
        ax.axhline(0, color="0.6", lw=0.6)
        if drawn:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))  # a labelled tick within any 2.5×
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not testable in any setting", transform=ax.transAxes, ha="center", color="0.4")
        words = at.claim.iloc[0].split(" at depth ")[0].split(" (")[0]
        ax.set(xlabel="SGD steps (log scale)", ylabel="effect / se over seeds")
        ax.set_title(textwrap.fill(f"{key}: {words}", 60), fontsize=9)
        ax.grid(alpha=0.3, which="both")
    for ax in axes.flat[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle("Scale study: each claim's effect in standard errors against training (dotted: ±2 se)")
    return fig, pd.concat(plotted, ignore_index=True)
