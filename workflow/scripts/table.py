"""Table stage: collect the experiment's runs, summarise over seeds, write CSV/Markdown/LaTeX, and the runs
themselves (what the scorecard weighs over seeds)."""
from pathlib import Path

from plainres import tables

p = snakemake.params  # noqa: F821 (injected by Snakemake)
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
if "nets" in p.spec:
    runs = runs[runs.net.isin(p.spec["nets"])]
summary = tables.with_paper(tables.summarise(runs, p.spec["quantities"]), p.target)
table = tables.wide(summary, p.spec["quantities"])
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write(Path(snakemake.output.csv).with_suffix(""), summary, table, caption, prov)  # noqa: F821
tables.write_tidy_csv(Path(snakemake.output.runs), runs, tables.notes_of(caption, prov))  # noqa: F821
