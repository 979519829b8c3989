"""Table 3 stage: weight statistics of p and t = T(r) at the start and end of the Table 1 runs."""
from pathlib import Path

from plainres import tables
from plainres.measures import weights

p, out = snakemake.params, snakemake.output  # noqa: F821 (injected by Snakemake)
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
runs = runs[runs.depth == p.spec["depth"]]
per_run = weights.table3_runs(runs, p.spec["threshold"])
prov = tables.provenance(runs, p.config)
tables.write_tidy_csv(Path(out.runs), per_run, tables.notes_of(p.caption, prov))
summary = tables.with_paper(tables.summarise(per_run.rename(columns={"vector": "net"}).assign(status="finished"),
                                             list(weights.STATISTICS)), "yt_table3")
table = tables.wide_by_quantity(summary, [v for v, *_ in weights.VECTORS], list(weights.STATISTICS))
tables.write(Path(out.csv).with_suffix(""), summary, table, p.caption, prov)
