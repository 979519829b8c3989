"""Scorecard stage: published numbers vs ours, and the papers' claims weighed against their seeds."""

from pathlib import Path

import pandas as pd

from plainres import collect, scorecard, tables
from plainres.files import atomic_write_bytes, begin_stage, read_sealed_json

begin_stage(snakemake.log[0], snakemake.output)

p, i = snakemake.params, snakemake.input
summaries = {t: tables.read_summary(Path(f)) for t, f in zip(p.summaries, i.summaries)}
figures = {t: pd.read_csv(f, comment="#") for t, f in zip(p.figures, i.figures)}
claim_data = {
    t: pd.concat([pd.read_csv(f, comment="#") for f in files], ignore_index=True) for t, files in p.claims.items()
}
runs = {t: pd.read_csv(f, comment="#") for t, f in p.runs.items()}
source = read_sealed_json(Path(i.data))["source"]
text = scorecard.render(
    summaries,
    figures,
    claim_data,
    p.specs,
    p.config["scale"],
    f"{source['kind']} {source.get('location') or ''}".strip(),
    p.claims_config["ladder"],
    p.claims_config["show_from"],
    runs,
    collect.trained_by([Path(f) for f in i.done]),
)
atomic_write_bytes(Path(snakemake.output[0]), text.encode())
