"""Scale study stage: every setting's runs → each claim's effect and standard error after every epoch."""

from pathlib import Path

import pandas as pd

from plainres import collect, figures, provenance, study, tables
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
curves = study.per_setting(figures.curves, p.done, p.experiments)
config = {"scale_study": p.study, "figures": {"yt_fig9": p.study["yt_fig9"]}}
measured = pd.read_csv(snakemake.input.measured, comment="#")
effects = pd.concat([study.effects(curves, config), study.measured_effects(measured, curves)], ignore_index=True)
prov, caption = (
    provenance.of_runs(curves, p.config, collect.origins(snakemake.input.done)),
    collect.diverged_caption(p.caption, curves),
)
fig, plotted = figures.scale_study(effects)
figures.save(fig, plotted, Path(out.png).with_suffix(""), caption, prov)
tables.write_tidy_csv(Path(out.summary), study.first_shown(effects), provenance.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.curves), curves, provenance.notes_of(caption, prov))
