"""Simulation stage: one result that needs no training (a diagram, a Monte Carlo, an exact series), its
figure and plotted numbers with their provenance."""
from pathlib import Path

import torch

from plainres import figures, tables
from plainres.simulate.targets import build

p, out = snakemake.params, snakemake.output  # noqa: F821 (injected by Snakemake)
torch.set_num_threads(snakemake.threads)  # noqa: F821
fig, data = build(p.target, p.spec, snakemake.threads)  # noqa: F821
figures.save(fig, data, Path(out.png).with_suffix(""), p.caption, tables.simulation_provenance(p.config))
