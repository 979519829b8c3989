"""Table 3 stage: weight statistics of p and t = T(r) at the start and end of the Table 1 runs (diverged runs
left out and counted)."""

from pathlib import Path

import pandas as pd

from plainres import tables
from plainres.files import begin_stage
from plainres.measures import weights

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[runs.depth == p.spec["depth"]]
ok, diverged = tables.split_diverged(runs)
columns = ["vector", "seed", "depth", "run_id", *weights.STATISTICS]
per_run = weights.table3_runs(ok, p.spec["threshold"]) if len(ok) else pd.DataFrame(columns=columns)
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write_tidy_csv(Path(out.weights), per_run, tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
measured = per_run.assign(status="finished")
if len(diverged):  # each diverged run's vectors: counted, not averaged
    gone = pd.DataFrame(
        [
            {"vector": vector, "seed": run.seed, "depth": run.depth, "run_id": run.run_id, "status": run.status}
            for run in diverged.itertuples()
            for vector, net, _ in weights.VECTORS
            if run.net == net
        ],
        columns=[*columns, "status"],
    )
    measured = pd.concat([measured, gone], ignore_index=True)
summary = tables.with_paper(
    tables.summarise(measured.rename(columns={"vector": "net"}), list(weights.STATISTICS)), "yt_table3"
)
table = tables.wide_by_quantity(summary, [v for v, *_ in weights.VECTORS], list(weights.STATISTICS))
tables.write(Path(out.csv).with_suffix(""), summary, table, caption, prov)
