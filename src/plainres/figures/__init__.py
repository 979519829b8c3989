"""YT's figures from finished runs, in the paper's conventions: plain blue, residual red, thick lines
for means and error bars whose half length is the sd over seeds, log axes where the paper has them.
Each figure is a PNG and a PDF with its provenance in the file metadata and in a footer, and a CSV
of exactly the numbers it plots.

By concept: `style` (colours, axes, the diverged runs), `curves` (the runs a figure reads), `yt` and `lw` (each
paper's figures), `study` (the scale study's), `save` (the files).
"""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported, here or in any module of the package
import matplotlib.pyplot as plt  # noqa: E402, F401 (callers close their figures with figures.plt)

from .curves import curves  # noqa: E402
from .lw import (  # noqa: E402
    lw_appc,
    lw_fig1_abc,
    lw_fig1_d,
    lw_fig1_e,
    lw_fig1_f,
    lw_theorem1,
    stage_iterations,
)
from .save import save  # noqa: E402
from .study import scale_study  # noqa: E402
from .style import (  # noqa: E402
    PLAIN,
    RESIDUAL,
    mean_sd,
    stacked,
)
from .yt import (  # noqa: E402
    FIG7_LARGE,
    fig2,
    fig3,
    fig6,
    fig7,
    fig9,
    fig10,
    fig11,
    fig12,
    fig13,
)

__all__ = [
    "FIG7_LARGE",
    "PLAIN",
    "RESIDUAL",
    "curves",
    "fig2",
    "fig3",
    "fig6",
    "fig7",
    "fig9",
    "fig10",
    "fig11",
    "fig12",
    "fig13",
    "lw_appc",
    "lw_fig1_abc",
    "lw_fig1_d",
    "lw_fig1_e",
    "lw_fig1_f",
    "lw_theorem1",
    "mean_sd",
    "save",
    "scale_study",
    "stacked",
    "stage_iterations",
]
