"""Simulation stage: one result that needs no training (a diagram, a Monte Carlo, an exact series), its
figure and plotted numbers with their provenance."""

import os
from pathlib import Path

import torch

from plainres import figures, tables, targets

with open(snakemake.log[0], "w") as log:
    os.dup2(log.fileno(), 2)  # stderr (fd 2: Python's, C code's, child processes') → this job's log

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
fig, data = targets.get(p.target).function("draw")(p.spec, snakemake.threads)
figures.save(fig, data, Path(out.png).with_suffix(""), p.caption, tables.simulation_provenance(p.config))
