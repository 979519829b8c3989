"""Import stage: the training jobs a results bundle holds, every byte verified, in place of training
(plainres.bundle.install)."""

import sys
from pathlib import Path

from plainres import bundle
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)
p = snakemake.params
data = dict(zip(p.datasets, snakemake.input.data))
print(bundle.install(p.source, Path(snakemake.input.archive), p.groups, data, p.overwrite), file=sys.stderr)
