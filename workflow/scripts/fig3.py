"""Fig 3 stage: per-sample layer cushions of the trained Table 1 nets over their training images (diverged runs
left out and counted)."""

from pathlib import Path

import pandas as pd
import torch

from plainres import figures, tables
from plainres.data import load_cached
from plainres.files import begin_stage
from plainres.measures.cushion import layer_cushion
from plainres.minibatches import TrainingSets
from plainres.runfolder import RunFolder

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[runs.depth.isin(p.spec["depths"]) & (runs.seed < p.spec["seeds"])]
ok, diverged = tables.split_diverged(runs)
sets = TrainingSets(*load_cached(Path(snakemake.input.data)))
cushions = []
for run in ok.itertuples():
    train = sets(run.train_subset)  # the images this run trained on
    images = train.train_x[: p.spec["images"]]
    mu = layer_cushion(RunFolder(run.dir).net("final"), p.spec["layer"], images, prepare=train.normalise)
    cushions.append(pd.DataFrame({"net": run.net, "depth": run.depth, "seed": run.seed, "mu": mu.numpy()}))
cushions = figures.stacked(cushions, ["net", "depth", "seed", "mu"])
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write_tidy_csv(Path(out.samples), cushions, tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
fig, plotted = figures.fig3(
    cushions, ok.groupby(["net", "depth"]).E.mean().to_dict(), p.spec["layer"], diverged=diverged
)
figures.save(fig, plotted, Path(out.png).with_suffix(""), caption, prov)
