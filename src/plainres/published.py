"""The papers' numbers (published.yaml), beside ours."""

from __future__ import annotations

import math
from importlib import resources

import pandas as pd
import yaml


def numbers() -> dict:
    return yaml.safe_load(resources.files("plainres").joinpath("published.yaml").read_text())


def with_paper(summary: pd.DataFrame, target: str) -> pd.DataFrame:
    """Add the published value of each (net, depth, quantity), where the paper gives one (none for a target
    that published.yaml does not hold: one the papers give no numbers for)."""
    pub = numbers().get(target, {"values": {}, "columns": []})

    def value(row):
        cells = pub["values"].get(row["net"], {})
        if row["depth"] in cells and row["quantity"] in pub["columns"]:
            return cells[row["depth"]][pub["columns"].index(row["quantity"])]
        return math.nan

    summary = summary.copy()
    summary["paper"] = summary.apply(value, axis=1)
    return summary
