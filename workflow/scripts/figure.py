"""Figure stage: the experiment's runs → the figure as PNG and PDF, its numbers as CSV, and every run's
curve (what the scorecard weighs over seeds)."""

from pathlib import Path

from plainres import figures, tables, targets
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

p = snakemake.params
frame = figures.curves([Path(f) for f in snakemake.input.done])
fig, data = targets.get(p.target).function("draw")(frame, p.spec)
prov, caption = tables.provenance(frame, p.config), tables.diverged_caption(p.caption, frame.drop_duplicates("dir"))
figures.save(fig, data, Path(snakemake.output.png).with_suffix(""), caption, prov)
tables.write_tidy_csv(Path(snakemake.output.runs), frame, tables.notes_of(caption, prov))
