"""Simulation stage: one result that needs no training (a diagram, a Monte Carlo, an exact series), its
figure and plotted numbers with their provenance."""

from pathlib import Path

import torch

from plainres import figures, provenance, targets
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
fig, data = targets.get(p.target).function("make")(p.spec, snakemake.threads)
figures.save(fig, data, Path(out.png).with_suffix(""), p.caption, provenance.of_simulation(p.config))
