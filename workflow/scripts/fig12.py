"""Fig 12 stage: σ⁽ˡ⁾ (YT Eq. 13) of every layer of the plain and residual runs of each panel, after the
first iteration and at the first iteration of the last epoch, on the minibatches the runs drew there."""
from pathlib import Path

import pandas as pd
import torch

from plainres import figures, tables
from plainres.data import load_cached
from plainres.measures.gradflow import run_flow_fractions
from plainres.train import TrainingSets

p, out = snakemake.params, snakemake.output  # noqa: F821 (injected by Snakemake)
torch.set_num_threads(snakemake.threads)  # noqa: F821
sets = TrainingSets(*load_cached(Path(snakemake.input.data)))  # noqa: F821
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
read, rows = [], []
for arch, panel in p.spec["panels"].items():
    chosen = runs[(runs.arch == arch) & (runs.depth == panel["depth"]) & (runs.seed < p.spec["seeds"])
                  & (runs.status != "diverged")]
    read.append(chosen)
    for run in chosen.itertuples():
        for row in run_flow_fractions(Path(run.dir), sets):
            rows.append({"arch": arch, "net": run.net, "depth": run.depth, "seed": run.seed, **row})
sigmas = pd.DataFrame(rows)
prov = tables.provenance(pd.concat(read), p.config)
tables.write_tidy_csv(Path(out.samples), sigmas, tables.notes_of(p.caption, prov))
fig, plotted = figures.fig12(sigmas)
figures.save(fig, plotted, Path(out.png).with_suffix(""), p.caption, prov)
