"""A table or figure from training (the registry's targets from runs and from nets): the target's function
(Target.make) reads the runs its training jobs recorded, and this writes what it made: the table (CSV, Markdown,
LaTeX, the paper's numbers beside ours) or the figure (PNG, PDF, the plotted numbers), the per-seed files its
claims weigh, and the runs it read, each with its caption (naming the runs that diverged) and provenance."""

from pathlib import Path

import torch

from plainres import collect, figures, provenance, published, tables, targets
from plainres.data import load_cached
from plainres.files import begin_stage
from plainres.minibatches import TrainingSets

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
target = targets.get(p.target)
images = TrainingSets(*load_cached(Path(snakemake.input.data))) if target.data else None
done = [Path(f) for f in snakemake.input.done]
made = target.function("make")(done, p.spec, images)
prov = provenance.of_runs(made.read, p.config, collect.origins(done))
caption = collect.diverged_caption(p.caption, made.read)
if made.summary is not None:
    summary = published.with_paper(made.summary, target.name)
    if made.columns:
        table = tables.wide_by_quantity(summary, made.columns, made.quantities)
    else:
        table = tables.wide(summary, made.quantities)
    tables.write(Path(out.csv).with_suffix(""), summary, table, caption, prov)
else:
    figures.save(*made.figure, Path(out.png).with_suffix(""), caption, prov)
for name, frame in {**made.files, "runs": made.read}.items():
    tables.write_tidy_csv(Path(out[name]), frame, provenance.notes_of(caption, prov))
