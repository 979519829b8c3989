"""Scorecard stage: published numbers vs ours, and the papers' claims, for every built table."""
import json
from pathlib import Path

from plainres import scorecard, tables
from plainres.data import atomic_write_bytes

summaries = {t: tables.read_summary(Path(f)) for t, f in zip(snakemake.params.targets, snakemake.input.tables)}  # noqa: F821
source = json.loads(Path(snakemake.input.data).read_text())["source"]  # noqa: F821
text = scorecard.render(summaries, snakemake.params.scale, f"{source['kind']} {source.get('location') or ''}".strip())  # noqa: F821
atomic_write_bytes(Path(snakemake.output[0]), text.encode())  # noqa: F821
