"""Scale study stage: every setting's runs → each claim's effect and standard error after every epoch."""

import os
from pathlib import Path

import pandas as pd

from plainres import figures, study, tables

with open(snakemake.log[0], "w") as log:
    os.dup2(log.fileno(), 2)  # stderr (fd 2: Python's, C code's, child processes') → this job's log

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
