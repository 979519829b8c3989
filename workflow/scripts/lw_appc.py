"""LW App. C stage: per conv layer of each trained ResNet, the norm of the kernel with its BN scale
absorbed and the norm of the BN scale, at every snapshot epoch; the figure per dataset (diverged runs left out
and counted)."""

from pathlib import Path

import pandas as pd
import torch

from plainres import figures, tables
from plainres.files import begin_stage
from plainres.measures.absorb import run_layer_norms
from plainres.runfolder import RunFolder

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[(runs.depth == p.spec["depth"]) & (runs.seed < p.spec["seeds"])]
ok, diverged = tables.split_diverged(runs)
rows, milestones = [], {}
for run in ok.itertuples():
    _, cfg = RunFolder(run.dir).record()
    milestones[run.dataset] = cfg.milestones
    for row in run_layer_norms(Path(run.dir), sorted(cfg.snapshot_epochs_resolved())):
        rows.append({"dataset": run.dataset, "depth": run.depth, "seed": run.seed, **row})
norms = pd.DataFrame(rows)
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
tables.write_tidy_csv(Path(out.samples), norms, tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
fig, plotted = figures.lw_appc(norms, p.spec["stages"], milestones, diverged=diverged)
figures.save(fig, plotted, Path(out.png).with_suffix(""), caption, prov)
