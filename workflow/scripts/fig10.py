"""Fig 10 stage: every ∂L/∂a⁽ᴸ⁾ the residual run captured during its first epochs → histogram (diverged runs left
out and counted)."""

import math
from pathlib import Path

import torch

from plainres import figures, tables
from plainres.files import begin_stage
from plainres.runfolder import RunFolder

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[runs.depth == p.spec["depth"]]
ok, diverged = tables.split_diverged(runs)
captured = [c for d in ok.dir for c in RunFolder(d).final_grads()]
grads = torch.cat([c["grad"] for c in captured]) if captured else None
iterations = sum(math.ceil(len(c["grad"]) / c["batch_size"]) for c in captured) // max(len(ok), 1)  # SGD steps per run
fig, data = figures.fig10(grads, p.spec["depth"], iterations, diverged=len(diverged))
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
figures.save(fig, data, Path(out.png).with_suffix(""), caption, prov)
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
