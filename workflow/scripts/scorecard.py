"""Scorecard stage: published numbers vs ours, and the papers' claims, for every built table and figure."""
import json
from pathlib import Path

import pandas as pd

from plainres import scorecard, tables
from plainres.data import atomic_write_bytes

p, i = snakemake.params, snakemake.input  # noqa: F821 (injected by Snakemake)
summaries = {t: tables.read_summary(Path(f)) for t, f in zip(p.targets, i.tables)}
figures = {t: pd.read_csv(f, comment="#") for t, f in zip(p.figures, i.figures)}
source = json.loads(Path(i.data).read_text())["source"]
text = scorecard.render(summaries, figures, p.figure_specs, p.config["scale"],
                        f"{source['kind']} {source.get('location') or ''}".strip())
atomic_write_bytes(Path(snakemake.output[0]), text.encode())  # noqa: F821
