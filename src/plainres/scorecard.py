"""The scorecard: every published number of the built targets beside ours, and whether each of the
papers' qualitative claims holds in our runs."""
from __future__ import annotations

import math

import pandas as pd

from .tables import cell_text, fmt


def mean_of(summary: pd.DataFrame, net: str, depth: int, quantity: str) -> float:
    hit = summary[(summary.net == net) & (summary.depth == depth) & (summary.quantity == quantity)]
    return float(hit["mean"].iloc[0]) if len(hit) else math.nan


def verdict(ok: bool | None, detail: str) -> tuple[str, str]:
    return ("not testable" if ok is None else "holds" if ok else "fails"), detail


def claims_table1(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    depths = sorted(s.depth.unique())
    out = []
    for q, name in (("L", "training loss"), ("E", "test error")):
        pairs = [(d, mean_of(s, "residual", d, q), mean_of(s, "plain", d, q)) for d in depths]
        finite = [(d, r, p) for d, r, p in pairs if not (math.isnan(r) or math.isnan(p))]
        ok = all(r < p for _, r, p in finite) if finite else None
        detail = "; ".join(f"d{d}: {fmt(r)} vs {fmt(p)}" for d, r, p in finite)
        out.append((f"residual {name} below plain at every depth (Table 1)", *verdict(ok, detail)))
    if len(depths) >= 2:
        lo, hi = depths[0], depths[-1]
        ratio = {net: mean_of(s, net, hi, "L") / mean_of(s, net, lo, "L") for net in ("plain", "residual")}
        ok = None if any(math.isnan(v) for v in ratio.values()) else ratio["plain"] > ratio["residual"]
        out.append((f"plain degrades more than residual from depth {lo} to {hi} (paper: 6.85× vs 1.73×, 20→44)",
                    *verdict(ok, f"L ratio plain {fmt(ratio['plain'], 3)}×, residual {fmt(ratio['residual'], 3)}×")))
    return out


def claims_table4(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    out = []
    ratios = [(net, d, mean_of(s, net, d, "L") / mean_of(s, net, d, "reg")) for net in ("plain", "residual")
              for d in sorted(s.depth.unique())]
    ratios = [r for r in ratios if not math.isnan(r[2])]
    smallest = min(ratios, key=lambda r: r[2]) if ratios else None
    out.append(("weight regularisation small against L after training (paper: L/reg ≥ 80.67)",
                *verdict(None if smallest is None else smallest[2] > 10,
                         "" if smallest is None else f"smallest L/reg {fmt(smallest[2], 3)} ({smallest[0]}, d{smallest[1]})")))
    d = min(s.depth.unique())
    ratio = mean_of(s, "plain", d, "reg_before") / mean_of(s, "residual", d, "reg_before")
    out.append(("before training, plain regularisation ≫ residual's (paper: 268× at depth 20)",
                *verdict(None if math.isnan(ratio) else ratio > 10, f"{fmt(ratio, 3)}× at depth {d}")))
    return out


def claims_table2(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    gaps = [(d, abs(mean_of(s, "plain", d, "L") - mean_of(s, "residual", d, "L")) / mean_of(s, "residual", d, "L"))
            for d in sorted(s.depth.unique())]
    gaps = [(d, g) for d, g in gaps if not math.isnan(g)]
    return [("equivalently initialised plain and residual nets reach the same L (paper: within 4 %)",
             *verdict(all(g < 0.1 for _, g in gaps) if gaps else None,
                      "; ".join(f"d{d}: {100 * g:.2g} % apart" for d, g in gaps)))]


def claims_table5(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    depths = sorted(s[s.net == "dominant"].depth.unique())
    errors = [(d, mean_of(s, "dominant", d, "E")) for d in depths]
    out = [("T′ nets classify far better than chance (E < 0.9) at every depth (paper: ≈ 0.32)",
            *verdict(all(e < 0.9 for _, e in errors) if errors else None,
                     "; ".join(f"d{d}: E {fmt(e)}" for d, e in errors)))]
    if len(depths) >= 2:
        ratio = mean_of(s, "dominant", depths[-1], "L") / mean_of(s, "dominant", depths[0], "L")
        out.append((f"T′ nets do not degrade with depth, {depths[0]}→{depths[-1]} (paper: L ratio 1.001, 20→44)",
                    *verdict(None if math.isnan(ratio) else ratio < 1.1, f"L ratio {fmt(ratio, 3)}×")))
    common = sorted(set(depths) & set(s[s.net == "dominant-full-lower"].depth.unique()))
    if common:
        d = common[0]
        diag, full = mean_of(s, "dominant", d, "E"), mean_of(s, "dominant-full-lower", d, "E")
        out.append(("a full lower half in the doubling kernels lowers T′'s error (paper: 31.52 % → 21.31 %, depth 20)",
                    *verdict(None if math.isnan(diag + full) else full < diag, f"d{d}: E {fmt(diag)} → {fmt(full)}")))
    return out


def render(tables: dict[str, pd.DataFrame], scale: str, data_source: str) -> str:
    """Markdown: published numbers vs ours per target, then the claims."""
    lines = ["# Scorecard", "", f"Scale: **{scale}**; data: {data_source}.",
             "Ours are mean ± sd over seeds (n). At scales other than `paper` the depths, epochs and data",
             "differ from the paper's, so the numbers are not comparable; the claims still are.", "",
             "## Published numbers", "", "| target | net | depth | quantity | paper | ours |", "|---|---|---|---|---:|---|"]
    for target, s in tables.items():
        compared = s[s.paper.notna()]
        for _, row in compared.iterrows():
            lines.append(f"| {target} | {row.net} | {row.depth} | {row.quantity} | {fmt(row.paper)} | {cell_text(row)} |")
        if not len(compared):
            lines.append(f"| {target} | — | — | — | — | no depth of this scale has a published value |")
    lines += ["", "## Claims", "", "| claim | verdict | evidence |", "|---|---|---|"]
    builders = {"yt_table1": claims_table1, "yt_table2": claims_table2, "yt_table4": claims_table4,
                "yt_table5": claims_table5}
    for target, s in tables.items():
        for claim, result, detail in builders[target](s):
            lines.append(f"| {claim} | {result} | {detail} |")
    return "\n".join(lines) + "\n"
