"""Fig 7 stage: weight histograms of p and t = T(r) of one seed, before and after training."""
from pathlib import Path

from plainres import figures, tables
from plainres.measures import weights

p = snakemake.params  # noqa: F821 (injected by Snakemake)
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
runs = runs[(runs.depth == p.spec["depth"]) & (runs.seed == p.spec["seed"])]
vectors = {}
for name, net, snapshot in weights.VECTORS:
    (folder,) = runs[runs.net == net].dir
    vectors[name] = weights.parameter_vector(weights.load_plain_view(folder, snapshot))
fig, data = figures.fig7(vectors, p.spec["depth"], p.spec["clip"])
figures.save(fig, data, Path(snakemake.output.png).with_suffix(""), p.caption, tables.provenance(runs, p.config))  # noqa: F821
