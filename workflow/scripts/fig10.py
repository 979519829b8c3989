"""Fig 10 stage: every ∂L/∂a⁽ᴸ⁾ the residual run captured during its first epochs → histogram."""
import math
from pathlib import Path

import torch

from plainres import figures, tables

p = snakemake.params  # noqa: F821 (injected by Snakemake)
runs = tables.collect([Path(f) for f in snakemake.input.done])  # noqa: F821
runs = runs[runs.depth == p.spec["depth"]]
captured = [torch.load(f, weights_only=False) for d in runs.dir for f in sorted(Path(d).glob("final_grad/epoch_*.pt"))]
grads = torch.cat([c["grad"] for c in captured])
iterations = sum(math.ceil(len(c["grad"]) / c["batch_size"]) for c in captured) // len(runs)  # SGD steps per run
fig, data = figures.fig10(grads, p.spec["depth"], iterations)
figures.save(fig, data, Path(snakemake.output.png).with_suffix(""), p.caption, tables.provenance(runs, p.config))  # noqa: F821
