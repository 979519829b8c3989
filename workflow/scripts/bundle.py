"""Bundle stage: every training job of the config, each run file verified, as one archive (plainres.bundle)."""

import sys
from pathlib import Path

from plainres import bundle
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)
manifest = bundle.export(snakemake.params.config, Path(snakemake.output.archive), Path(snakemake.output.manifest))
print(
    f"bundle: {len(manifest['groups'])} training jobs, {len(manifest['files'])} files "
    f"({sum(f['size'] for f in manifest['files'].values()) / 1e6:.1f} MB) → {snakemake.output.archive}",
    file=sys.stderr,
)
