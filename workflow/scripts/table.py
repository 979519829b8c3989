"""Table stage: collect the experiment's runs, summarise over seeds, write CSV/Markdown/LaTeX, and the runs
themselves (what the scorecard weighs over seeds)."""

from pathlib import Path

from plainres import tables
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

p = snakemake.params
runs = tables.collect([Path(f) for f in snakemake.input.done])
if "nets" in p.spec:
    runs = runs[runs.net.isin(p.spec["nets"])]
summary = tables.with_paper(tables.summarise(runs, p.spec["quantities"]), p.target)
table = tables.wide(summary, p.spec["quantities"])
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write(Path(snakemake.output.csv).with_suffix(""), summary, table, caption, prov)
tables.write_tidy_csv(Path(snakemake.output.runs), runs, tables.notes_of(caption, prov))
