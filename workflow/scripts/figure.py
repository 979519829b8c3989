"""Figure stage: the experiment's runs → the figure as PNG and PDF, and its numbers as CSV."""
from pathlib import Path

from plainres import figures, tables

p = snakemake.params  # noqa: F821 (injected by Snakemake)
frame = figures.curves([Path(f) for f in snakemake.input.done])  # noqa: F821
fig, data = figures.build(p.target, frame, p.spec)
figures.save(fig, data, Path(snakemake.output.png).with_suffix(""), p.caption,  # noqa: F821
             tables.provenance(frame, p.config))
