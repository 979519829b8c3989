"""Train stage: one seed group on its own device (a GPU claimed for it where the machine shows GPUs); resumes from
its checkpoint; its done.json records what became of each run."""

import json
from pathlib import Path

from plainres.files import begin_stage
from plainres.train import run_claimed

begin_stage(snakemake.log[0], snakemake.output)

run_claimed(
    json.loads(snakemake.params.job), Path(snakemake.input.data), snakemake.threads, Path(".snakemake/gpu-locks")
)
