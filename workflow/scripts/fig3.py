"""Fig 3 stage: per-sample layer cushions of the trained Table 1 nets over their training images."""
from pathlib import Path

import pandas as pd
import torch

from plainres import figures, tables
from plainres.data import load_cached
from plainres.measures.cushion import layer_cushion
from plainres.measures.weights import load_net
from plainres.train import DeviceData

p, out = snakemake.params, snakemake.output  # noqa: F821 (injected by Snakemake)
torch.set_num_threads(snakemake.threads)  # noqa: F821
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
runs = runs[runs.depth.isin(p.spec["depths"]) & (runs.seed == p.spec["seed"])]
data, meta = load_cached(Path(snakemake.input.data))  # noqa: F821
cushions, train_sets = [], {}
for run in runs.itertuples():
    subset = None if pd.isna(run.train_subset) else int(run.train_subset)  # the images this run trained on
    if subset not in train_sets:
        train_sets[subset] = DeviceData(data, meta, "cpu", torch.float64, subset)
    train = train_sets[subset]
    mu = layer_cushion(load_net(run.dir, "final"), p.spec["layer"], train.train_x, prepare=train.normalise)
    cushions.append(pd.DataFrame({"net": run.net, "depth": run.depth, "seed": run.seed, "mu": mu.numpy()}))
cushions = pd.concat(cushions, ignore_index=True)
prov = tables.provenance(runs, p.config)
tables.write_tidy_csv(Path(out.samples), cushions, tables.notes_of(p.caption, prov))
fig, plotted = figures.fig3(cushions, {(r.net, r.depth): r.E for r in runs.itertuples()}, p.spec["layer"])
figures.save(fig, plotted, Path(out.png).with_suffix(""), p.caption, prov)
