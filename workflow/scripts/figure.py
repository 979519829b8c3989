"""Figure stage: the experiment's runs → the figure as PNG and PDF, its numbers as CSV, and every run's
curve (what the scorecard weighs over seeds)."""
from pathlib import Path

from plainres import figures, tables

p = snakemake.params  # noqa: F821 (injected by Snakemake)
frame = figures.curves([Path(f) for f in snakemake.input.done])  # noqa: F821
fig, data = figures.build(p.target, frame, p.spec)
prov, caption = tables.provenance(frame, p.config), tables.diverged_caption(p.caption, frame.drop_duplicates("dir"))
figures.save(fig, data, Path(snakemake.output.png).with_suffix(""), caption, prov)  # noqa: F821
tables.write_tidy_csv(Path(snakemake.output.runs), frame, tables.notes_of(caption, prov))  # noqa: F821
