"""YT's tables from finished runs: mean ± sd over seeds (n), diverged runs counted apart,
the paper's value beside ours. Each table is written as CSV (tidy), Markdown and LaTeX, with
its provenance in comment lines.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from .files import atomic_write_bytes
from .provenance import environment
from .runfolder import GroupFolder, RunFolder


def published() -> dict:
    return yaml.safe_load(resources.files("plainres").joinpath("published.yaml").read_text())


def read_runs(done_files: list[Path]):
    """Every run the training jobs recorded: (identity and provenance, its evaluated metric rows)."""
    for done in done_files:
        for entry in GroupFolder(Path(done).parent).done():
            folder = RunFolder(entry["dir"])
            config = folder.config()
            metrics = [r for r in folder.metrics() if r["train_loss"] != ""]
            run = config["run"]
            # simplified and fully-fledged nets are 'plain'/'residual' (their arch is a column of its own);
            # the dominant-path nets of Table 5 are named by their arch
            label = run["net"] if run["arch"] in ("simplified", "fully-fledged") else run["arch"]
            yield (
                {
                    **run,
                    "net": label,
                    "run_id": entry["run_id"],
                    "status": entry["status"],
                    "dir": str(folder.path),
                    "train_subset": config["train"]["train_subset"],
                    "dtype": config["train"]["dtype"],
                    "dataset": config["data"]["dataset"],
                    "device": config["device_name"],
                    "torch": config["torch_version"],
                    "code": config["code_version"],
                    "data_source": json.dumps(config["data"]["source"]),
                },
                metrics,
            )


def collect(done_files: list[Path]) -> pd.DataFrame:
    """One row per run: identity, status, and the first and last evaluated metrics."""
    rows = []
    for run, metrics in read_runs(done_files):
        first, last = metrics[0], metrics[-1]
        rows.append(
            {
                **run,
                "epochs": int(last["epoch"]),
                "L_before": float(first["train_loss"]),
                "reg_before": float(first["weight_reg"]),
                "L": float(last["train_loss"]),
                "reg": float(last["weight_reg"]),
                "C": float(last["cost"]),
                "E": float(last["test_error"]),
            }
        )
    return pd.DataFrame(rows)


def split_diverged(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows of runs that finished, those of runs that diverged): a diverged run is in no mean or histogram."""
    if "status" not in runs:
        return runs, runs.iloc[:0]
    gone = runs.status == "diverged"
    return runs[~gone], runs[gone]


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


def with_paper(summary: pd.DataFrame, target: str) -> pd.DataFrame:
    """Add the published value of each (net, depth, quantity), where the paper gives one (none for a target
    that published.yaml does not hold: one the papers give no numbers for)."""
    pub = published().get(target, {"values": {}, "columns": []})

    def value(row):
        cells = pub["values"].get(row["net"], {})
        if row["depth"] in cells and row["quantity"] in pub["columns"]:
            return cells[row["depth"]][pub["columns"].index(row["quantity"])]
        return math.nan

    summary = summary.copy()
    summary["paper"] = summary.apply(value, axis=1)
    return summary


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


def config_sha256(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def simulation_provenance(config: dict, device: str = "cpu") -> dict:
    """What a result computed here, from no runs, records: its config's hash and this code and torch."""
    env = environment()
    return {
        "scale": config["scale"],
        "config_sha256": config_sha256(config),
        "code_version": env["code_version"],
        "torch": env["torch_version"],
        "device": device,
        "data_source": "none (simulation)",
    }


def provenance(runs: pd.DataFrame, config: dict) -> dict:
    return {
        "scale": config["scale"],
        "config_sha256": config_sha256(config),
        "code_version": ", ".join(sorted(runs.code.unique())),
        "torch": ", ".join(sorted(runs.torch.unique())),
        "device": ", ".join(sorted(runs.device.unique())),
        "data_source": ", ".join(sorted(runs.data_source.unique())),
    }


def write_tidy_csv(path: Path, frame: pd.DataFrame, notes: list[str]) -> None:
    """A CSV whose first lines are '# ' comments (caption, provenance): pandas reads it with comment='#'."""
    text = io.StringIO()
    for line in notes:
        text.write(f"# {line}\n")
    frame.to_csv(text, index=False)
    atomic_write_bytes(path, text.getvalue().encode())


def diverged_caption(caption: str, runs: pd.DataFrame) -> str:
    """The caption, naming the runs read that diverged (left out of every mean and histogram), where any did."""
    gone = split_diverged(runs)[1]
    if gone.empty:
        return caption
    return f"{caption} Diverged and left out: {len(gone)} of {len(runs)} runs ({', '.join(gone.run_id)})."


def notes_of(caption: str, prov: dict) -> list[str]:
    return [caption] + [f"{k}: {v}" for k, v in prov.items()]


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
