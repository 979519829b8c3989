"""The scorecard page: the published numbers read off figures, the claims weighed at a scale (each target's
claims: the target registry, plainres.targets) and the Markdown page."""

from __future__ import annotations

import math

import pandas as pd

from .. import targets
from ..evidence import VERDICTS, Row, at_scale
from ..published import with_paper
from ..tables import cell_text, fmt
from .common import with_diverged

# ---------------------------------------------------------------- published numbers from figures

SUMMARY_COLUMNS = ["net", "depth", "quantity", "mean", "sd", "n", "diverged"]


def fig10_summary(data: pd.DataFrame, spec: dict | None = None) -> pd.DataFrame:
    """Fig 10's mean and sd of ∂L/∂a⁽ᴸ⁾ beside the paper's (1.44e-4, 0.011); n = 0 where its runs diverged."""
    first = data.iloc[0]
    rows = [
        {
            "net": "residual",
            "depth": int(first.depth),
            "quantity": q,
            "mean": float(first[q]),
            "sd": math.nan,
            "n": int(first.n),
            "diverged": int(first.get("diverged", 0)),
        }
        for q in ("mean", "sd")
    ]
    return with_paper(pd.DataFrame(rows), "yt_fig10")


def fig9_summary(data: pd.DataFrame, spec: dict | None = None) -> pd.DataFrame:
    """Fig 9's final means (left panel) as a summary with the paper's values (0.13/0.46, 0.055/0.083)."""
    left = data[data.panel == "left"]
    last = left[left.epoch == left.epoch.max()]
    names = {"kwi": "p", "t-hmwi": "t"}
    rows = [
        {
            "net": names[r.init],
            "depth": int(r.depth),
            "quantity": "L",
            "mean": r.mean,
            "sd": r.sd,
            "n": int(r.n),
            "diverged": 0,
        }
        for r in last.itertuples()
    ]
    return with_paper(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), "yt_fig9")


def fig12_summary(data: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """σ(residual) / σ(plain) at each panel's ratio layers, the mean of the two stages' ratios of seed means
    (the paper's "on average … through the whole training process"), beside the paper's values; a net whose
    runs all diverged leaves the ratio undefined."""
    rows = []
    for arch, panel in spec["panels"].items():
        cell = data[data.arch == arch]
        for layer in panel["ratio_layers"]:
            ratios = []
            for stage in ("first", "last"):
                at = cell[(cell.stage == stage) & (cell.layer == layer)].set_index("net")["mean"]
                ratios.append(at.get("residual", math.nan) / at.get("plain", math.nan))
            rows.append(
                {
                    "net": arch,
                    "depth": panel["depth"],
                    "quantity": f"ratio_{layer}",
                    "mean": sum(ratios) / len(ratios),
                    "sd": math.nan,
                    "n": int(cell["n"].min()) if len(cell) else 0,
                    "diverged": 0,
                }
            )
    return with_paper(pd.DataFrame(rows), "yt_fig12")


def rows_of(
    claim_data: dict[str, pd.DataFrame],
    specs: dict,
    scale: str,
    ladder: list[str],
    show_from: dict[str, str],
    runs: dict[str, pd.DataFrame] | None = None,
) -> list[Row]:
    """Every claim of the targets in `claim_data` (their claims: the target registry), weighed, then marked
    `below scale` where the scale is too small; runs: the runs a measured target read, whose diverged ones its
    claims name (`with_diverged`)."""
    rows, runs = [], runs or {}
    for target, data in claim_data.items():
        claims = targets.get(target).function("claims")
        data = with_diverged(data, runs.get(target))
        rows += [at_scale(row, scale, ladder, show_from) for row in claims(data, specs.get(target))]
    made = {row.key for row in rows}
    unknown = sorted(key for key in show_from if key.split(".")[0] in claim_data and key not in made)
    if unknown:
        raise ValueError(
            f"claims.show_from names no claim of its target: {', '.join(unknown)} "
            f"(the claims made: {', '.join(sorted(made))})"
        )
    return rows


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def render(
    summaries: dict[str, pd.DataFrame],
    figures: dict[str, pd.DataFrame],
    claim_data: dict[str, pd.DataFrame],
    specs: dict,
    scale: str,
    data_source: str,
    ladder: list[str],
    show_from: dict[str, str],
    runs: dict[str, pd.DataFrame] | None = None,
    trained_by: str | None = None,
) -> str:
    """Markdown: the verdict counts, the published numbers beside ours, then every claim with its evidence;
    `trained_by`: the code that trained the runs, and where (collect.trained_by)."""
    rows = rows_of(claim_data, specs, scale, ladder, show_from, runs)
    counts = {v: sum(r.verdict == v for r in rows) for v in VERDICTS}
    lines = [
        "# Scorecard",
        "",
        f"Scale: **{scale}**; data: {data_source}.",
        *([f"Runs: trained by {trained_by}."] if trained_by else []),
        "",
        f"**{len(rows)} claims: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS) + ".**",
        "",
        "A comparative claim's effect is positive in the paper's direction; it is the mean over seeds of the",
        "seed-paired difference where both sides share a seed (and so their minibatches), ± its standard error",
        "(n seeds). It **holds** beyond +2 se with n ≥ 3, **fails** beyond −2 se with n ≥ 3, and is **inconclusive**",
        "in between or with fewer seeds; a claim is **below scale** where this scale is smaller than the smallest",
        "at which it was seen to show (config.yaml `claims.show_from`). Exact checks (float64 equivalence, closed",
        "forms, simulations) hold or fail by their stated rule.",
        "",
        "## Published numbers",
        "",
        "Ours are mean ± sd over seeds (n). At scales other than `paper` the depths, epochs and data differ from",
        "the paper's, so these numbers are not comparable; the claims are.",
        "",
        "| target | net | depth | quantity | paper | ours |",
        "|---|---|---|---|---:|---|",
    ]
    compared = {
        **summaries,
        **{t: targets.get(t).function("summary")(data, specs.get(t)) for t, data in figures.items()},
    }
    for target, s in compared.items():
        with_value = s[s.paper.notna()]
        for _, row in with_value.iterrows():
            lines.append(
                f"| {target} | {row.net} | {row.depth} | {row.quantity} | {fmt(row.paper)} | {cell_text(row)} |"
            )
        if not len(with_value):
            lines.append(f"| {target} | — | — | — | — | no depth of this scale has a published value |")
    lines += ["", "## Claims", "", "| target | claim | verdict | effect ± se (n) | evidence |", "|---|---|---|---|---|"]
    for r in rows:
        verdict = f"{r.verdict} (shows from `{show_from[r.key]}`)" if r.verdict == "below scale" else r.verdict
        lines.append(f"| {r.target} | {_cell(r.claim)} | {verdict} | {r.effect.text()} | {_cell(r.detail)} |")
    return "\n".join(lines) + "\n"
