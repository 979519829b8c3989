"""A figure's files: PNG and PDF with its caption and provenance, and a CSV of the numbers it plots."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from ..files import atomic_write_bytes
from ..provenance import notes_of
from ..tables import write_tidy_csv


def save(fig, data: pd.DataFrame, stem: Path, caption: str, prov: dict) -> None:
    """stem.png, stem.pdf (provenance in the metadata and a footer) and stem.csv (the plotted numbers)."""

    def short(value: str) -> str:  # a data source is JSON: show its kind and location
        try:
            source = json.loads(value)
            return " ".join(str(source[k]) for k in ("kind", "location") if source.get(k))
        except (ValueError, TypeError, KeyError):
            return value

    footer = " · ".join(
        f"{k} {short(v) if k == 'data_source' else v}"
        for k, v in prov.items()
        if k in ("scale", "data_source", "code_version", "device")
    )
    fig.text(0.005, 0.002, footer, fontsize=6, color="0.45", ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    # the images depend on the runs alone, not on where they were trained (a results bundle's rebuilds are byte for
    # byte the exporter's): the CSV beside them says that; a PDF carries no creation time
    described = caption + " | " + "; ".join(f"{k}: {v}" for k, v in prov.items() if k != "runs_from")
    for suffix, metadata in (
        (".png", {"Description": described}),
        (".pdf", {"Subject": described, "CreationDate": None}),
    ):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], dpi=150, metadata=metadata)
        atomic_write_bytes(stem.with_suffix(suffix), buffer.getvalue())
    plt.close(fig)
    write_tidy_csv(stem.with_suffix(".csv"), data, notes_of(caption, prov))
