"""Fig 12 stage: σ⁽ˡ⁾ (YT Eq. 13) of every layer of the plain and residual runs of each panel, after the
first iteration and at the first iteration of the last epoch, on the minibatches the runs drew there (diverged
runs left out and counted)."""

from pathlib import Path

import pandas as pd
import torch

from plainres import figures, tables
from plainres.data import load_cached
from plainres.files import begin_stage
from plainres.measures.gradflow import run_flow_fractions
from plainres.minibatches import TrainingSets

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
sets = TrainingSets(*load_cached(Path(snakemake.input.data)))
runs = tables.collect([Path(f) for f in snakemake.input.done])
read, rows = [], []
for arch, panel in p.spec["panels"].items():
    read.append(runs[(runs.arch == arch) & (runs.depth == panel["depth"]) & (runs.seed < p.spec["seeds"])])
    for run in tables.split_diverged(read[-1])[0].itertuples():
        for row in run_flow_fractions(Path(run.dir), sets):
            rows.append({"arch": arch, "net": run.net, "depth": run.depth, "seed": run.seed, **row})
read = pd.concat(read)
sigmas = pd.DataFrame(rows)
prov, caption = tables.provenance(read, p.config), tables.diverged_caption(p.caption, read)
tables.write_tidy_csv(Path(out.samples), sigmas, tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.runs), read, tables.notes_of(caption, prov))
fig, plotted = figures.fig12(sigmas, diverged=tables.split_diverged(read)[1])
figures.save(fig, plotted, Path(out.png).with_suffix(""), caption, prov)
