"""Scale study stage: the measured claims' values at every snapshot epoch of the study's runs."""

from pathlib import Path

import torch

from plainres import collect, configuration, provenance, study, tables
from plainres.data import load_cached
from plainres.files import begin_stage
from plainres.measures.over_training import measure
from plainres.minibatches import TrainingSets

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
torch.set_num_threads(snakemake.threads)
runs = study.per_setting(collect.collect, p.done, p.experiments)
sets = TrainingSets(*load_cached(Path(snakemake.input.data)))
measured = measure(runs, configuration.study_measures(p.measures), sets, p.measures, p.images)
caption = collect.diverged_caption(p.caption, runs)  # measure() leaves the diverged runs out
tables.write_tidy_csv(
    Path(out.csv),
    measured,
    provenance.notes_of(caption, provenance.of_runs(runs, p.config, collect.origins(snakemake.input.done))),
)
