"""Train stage: one seed group; resumes from its checkpoint; its done.json records what became of each run."""

import json
from pathlib import Path

import torch

from plainres.devices import job_device
from plainres.files import begin_stage
from plainres.train import run_job

begin_stage(snakemake.log[0], snakemake.output)

job = json.loads(snakemake.params.job)
torch.set_num_threads(snakemake.threads)
gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
with job_device(job["device"], gpus, Path(".snakemake/gpu-locks")) as device:
    run_job(job, Path(snakemake.input.data), device)
