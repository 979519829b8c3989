"""The scorecard: every published number of the built targets beside ours, and each of the papers' claims
with its effect, its standard error over seeds, n and a verdict (see `evidence`).

Each target's claims read the per-seed file its rule wrote (runs, curves or measurements); exact checks
read the plotted numbers. A claim's key (`target.name`) is how config.yaml's `claims.show_from` names it.

By concept: `common` (the helpers every claim uses), `claims_yt` and `claims_lw` (each paper's claims, its
simulations' with it), `render` (the published numbers read off figures, the claims weighed at a scale, the
page). Which claims and summary belong to which target: the target registry, `plainres.targets`.
"""

from ..evidence import Row
from .claims_lw import (
    claims_lw_appc,
    claims_lw_fig1_abc,
    claims_lw_fig1_d,
    claims_lw_fig1_e,
    claims_lw_fig1_f,
    claims_lw_theorem1,
)
from .claims_yt import (
    claims_cushion_full,
    claims_fig2,
    claims_fig3,
    claims_fig6,
    claims_fig7,
    claims_fig9,
    claims_fig10,
    claims_fig11,
    claims_fig12,
    claims_fig13,
    claims_table1,
    claims_table2,
    claims_table3,
    claims_table4,
    claims_table5,
)
from .common import all_of, with_diverged
from .render import (
    fig9_summary,
    fig10_summary,
    fig12_summary,
    render,
    rows_of,
)

__all__ = [
    "Row",
    "all_of",
    "claims_cushion_full",
    "claims_fig2",
    "claims_fig3",
    "claims_fig6",
    "claims_fig7",
    "claims_fig9",
    "claims_fig10",
    "claims_fig11",
    "claims_fig12",
    "claims_fig13",
    "claims_lw_appc",
    "claims_lw_fig1_abc",
    "claims_lw_fig1_d",
    "claims_lw_fig1_e",
    "claims_lw_fig1_f",
    "claims_lw_theorem1",
    "claims_table1",
    "claims_table2",
    "claims_table3",
    "claims_table4",
    "claims_table5",
    "fig9_summary",
    "fig10_summary",
    "fig12_summary",
    "render",
    "rows_of",
    "with_diverged",
]
