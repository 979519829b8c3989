"""Table stage: collect the experiment's runs, summarise over seeds, write CSV/Markdown/LaTeX, and the runs
themselves (what the scorecard weighs over seeds)."""

import os
from pathlib import Path

from plainres import tables

with open(snakemake.log[0], "w") as log:
    os.dup2(log.fileno(), 2)  # stderr (fd 2: Python's, C code's, child processes') → this job's log

p = snakemake.params
runs = tables.collect([Path(f) for f in snakemake.input.done])
if "nets" in p.spec:
    runs = runs[runs.net.isin(p.spec["nets"])]
summary = tables.with_paper(tables.summarise(runs, p.spec["quantities"]), p.target)
table = tables.wide(summary, p.spec["quantities"])
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write(Path(snakemake.output.csv).with_suffix(""), summary, table, caption, prov)
tables.write_tidy_csv(Path(snakemake.output.runs), runs, tables.notes_of(caption, prov))
