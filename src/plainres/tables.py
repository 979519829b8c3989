"""Tables: mean ± sd over seeds (n), diverged runs counted apart, the paper's value beside ours (published.py).
Each table is written as CSV (tidy), Markdown and LaTeX, with its provenance in comment lines.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import pandas as pd

from .collect import collect, split_diverged
from .files import atomic_write_bytes
from .provenance import notes_of
from .targets import Made


def from_runs(done: list[Path], spec: dict, images: None = None) -> Made:
    """A table of the runs' last evaluated metrics (`spec`: the registry's `table`, its quantities and, where it
    names them, the nets it shows), summarised over seeds."""
    runs = collect(done)
    if "nets" in spec:
        runs = runs[runs.net.isin(spec["nets"])]
    return Made(read=runs, summary=summarise(runs, spec["quantities"]), quantities=spec["quantities"])


def summarise(runs: pd.DataFrame, quantities: list[str], by=("net", "depth")) -> pd.DataFrame:
    """Long table: one row per (net, depth, quantity) with mean, sd, n and the diverged count."""
    out = []
    for key, cell in runs.groupby(list(by), sort=True):
        ok, gone = split_diverged(cell)
        for q in quantities:
            values = ok[q]
            out.append(
                {
                    **dict(zip(by, key)),
                    "quantity": q,
                    "mean": values.mean() if len(values) else math.nan,
                    "sd": values.std(ddof=1) if len(values) > 1 else math.nan,
                    "n": len(values),
                    "diverged": len(gone),
                }
            )
    return pd.DataFrame(out)


def fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:.{digits}g}"


def cell_text(row) -> str:
    if row["n"] == 0:
        return f"diverged ({row['diverged']})" if row["diverged"] else "—"
    text = fmt(row["mean"]) + (f" ± {fmt(row['sd'], 2)}" if row["n"] > 1 else "") + f" (n={row['n']})"
    return text + (f", {row['diverged']} diverged" if row["diverged"] else "")


def wide(summary: pd.DataFrame, quantities: list[str]) -> pd.DataFrame:
    """Rows: depth; columns: '<net> <quantity>' (ours) and '<net> <quantity> paper'."""
    table = {}
    for _, row in summary.iterrows():
        line = table.setdefault(row["depth"], {"depth": row["depth"]})
        line[f"{row['net']} {row['quantity']}"] = cell_text(row)
        line[f"{row['net']} {row['quantity']} paper"] = fmt(row["paper"])
    columns = ["depth"] + [
        f"{net} {q}{p}" for net in sorted(summary.net.unique()) for q in quantities for p in ("", " paper")
    ]
    return pd.DataFrame([table[d] for d in sorted(table)])[columns].fillna("—")


def wide_by_quantity(summary: pd.DataFrame, columns: list[str], quantities: list[str]) -> pd.DataFrame:
    """Rows: quantity; columns: each of `columns` (the summary's 'net' values), ours then the paper's."""
    table = []
    for q in quantities:
        line = {"quantity": q}
        for c in columns:
            hit = summary[(summary.net == c) & (summary.quantity == q)]
            line[c] = cell_text(hit.iloc[0]) if len(hit) else "—"
            line[f"{c} paper"] = fmt(hit.iloc[0]["paper"]) if len(hit) else "—"
        table.append(line)
    return pd.DataFrame(table)


def write_tidy_csv(path: Path, frame: pd.DataFrame, notes: list[str]) -> None:
    """A CSV whose first lines are '# ' comments (caption, provenance): pandas reads it with comment='#'."""
    text = io.StringIO()
    for line in notes:
        text.write(f"# {line}\n")
    frame.to_csv(text, index=False)
    atomic_write_bytes(path, text.getvalue().encode())


def write(stem: Path, summary: pd.DataFrame, table: pd.DataFrame, caption: str, prov: dict) -> None:
    """stem.csv (tidy summary), stem.md and stem.tex (the wide table), each with provenance."""
    notes = notes_of(caption, prov)
    write_tidy_csv(stem.with_suffix(".csv"), summary, notes)

    md = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    md += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    md += [""] + [f"{line}  " for line in notes]
    atomic_write_bytes(stem.with_suffix(".md"), ("\n".join(md) + "\n").encode())

    def tex(v):
        return str(v).replace("±", r"$\pm$").replace("_", r"\_").replace("%", r"\%")

    lines = [f"% {line}" for line in notes]
    lines += [
        r"\begin{tabular}{" + "l" + "r" * (len(table.columns) - 1) + "}",
        r"\hline",
        " & ".join(tex(c) for c in table.columns) + r" \\",
        r"\hline",
    ]
    lines += [" & ".join(tex(v) for v in row) + r" \\" for row in table.itertuples(index=False)]
    lines += [r"\hline", r"\end{tabular}"]
    atomic_write_bytes(stem.with_suffix(".tex"), ("\n".join(lines) + "\n").encode())


def read_summary(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#")
