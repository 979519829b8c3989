"""Fig 7 stage: weight histograms of p and t = T(r) of one seed, before and after training (a diverged run's
vectors left out and named)."""

from pathlib import Path

from plainres import figures, tables
from plainres.files import begin_stage
from plainres.measures import weights

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[(runs.depth == p.spec["depth"]) & (runs.seed == p.spec["seed"])]
vectors, diverged = {}, {}
for name, net, snapshot in weights.VECTORS:
    (run,) = runs[runs.net == net].itertuples()
    if run.status == "diverged":
        diverged[name] = run.run_id
    else:
        vectors[name] = weights.parameter_vector(weights.load_plain_view(run.dir, snapshot))
fig, data = figures.fig7(vectors, p.spec["depth"], p.spec["clip"], diverged=diverged)
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
figures.save(fig, data, Path(out.png).with_suffix(""), caption, prov)
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
