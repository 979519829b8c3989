"""YT's figures from finished runs, in the paper's conventions: plain blue, residual red, thick lines
for means and error bars whose half length is the sd over seeds, log axes where the paper has them.
Each figure is a PNG and a PDF with its provenance in the file metadata and in a footer, and a CSV
of exactly the numbers it plots.

By concept: `style` (colours, axes, the diverged runs), `runs` (the runs a figure reads), `yt` and `lw` (each
paper's figures), `study` (the scale study's), `save` (the files).
"""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported, here or in any module of the package
import matplotlib.pyplot as plt  # noqa: E402, F401 (callers close their figures with figures.plt)

from .lw import (  # noqa: E402
    lw_appc,
    lw_fig1_abc,
    lw_fig1_d,
    lw_fig1_e,
    lw_fig1_f,
    lw_theorem1,
    stage_epochs,
    stage_iterations,
)
from .runs import curves, draw_fig2, draw_fig6, draw_fig9, iterations  # noqa: E402
from .save import save  # noqa: E402
from .study import scale_study  # noqa: E402
from .style import (  # noqa: E402
    DEPTH_STYLES,
    PLAIN,
    RESIDUAL,
    count_diverged,
    epoch_axis,
    errorbars,
    histogram,
    left_out,
    loss_axis,
    mean_sd,
    nothing_drawn,
    split_diverged,
    stacked,
)
from .yt import (  # noqa: E402
    FIG7_LARGE,
    FIG11_AXES,
    FIG11_LOG_X,
    FIG11_SYMBOLS,
    STAGE_STYLES,
    fig2,
    fig3,
    fig6,
    fig7,
    fig9,
    fig10,
    fig11,
    fig12,
    fig13,
    first_reaching,
)

__all__ = [
    "DEPTH_STYLES",
    "FIG7_LARGE",
    "FIG11_AXES",
    "FIG11_LOG_X",
    "FIG11_SYMBOLS",
    "PLAIN",
    "RESIDUAL",
    "STAGE_STYLES",
    "count_diverged",
    "curves",
    "draw_fig2",
    "draw_fig6",
    "draw_fig9",
    "epoch_axis",
    "errorbars",
    "fig2",
    "fig3",
    "fig6",
    "fig7",
    "fig9",
    "fig10",
    "fig11",
    "fig12",
    "fig13",
    "first_reaching",
    "histogram",
    "iterations",
    "left_out",
    "loss_axis",
    "lw_appc",
    "lw_fig1_abc",
    "lw_fig1_d",
    "lw_fig1_e",
    "lw_fig1_f",
    "lw_theorem1",
    "mean_sd",
    "nothing_drawn",
    "save",
    "scale_study",
    "split_diverged",
    "stacked",
    "stage_epochs",
    "stage_iterations",
]
