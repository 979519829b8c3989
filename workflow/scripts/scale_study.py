"""Scale study stage: every setting's runs → each claim's effect and standard error after every epoch."""

from pathlib import Path

import pandas as pd

from plainres import figures, study, tables
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
curves = study.per_setting(figures.curves, p.done, p.experiments)
config = {"scale_study": p.study, "figures": {"yt_fig9": p.study["yt_fig9"]}}
measured = pd.read_csv(snakemake.input.measured, comment="#")
effects = pd.concat([study.effects(curves, config), study.measured_effects(measured, curves)], ignore_index=True)
prov, caption = tables.provenance(curves, p.config), tables.diverged_caption(p.caption, curves.drop_duplicates("dir"))
fig, plotted = figures.scale_study(effects)
figures.save(fig, plotted, Path(out.png).with_suffix(""), caption, prov)
tables.write_tidy_csv(Path(out.summary), study.first_shown(effects), tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.curves), curves, tables.notes_of(caption, prov))
