"""Train stage: one seed group; resumes from its checkpoint; records what became of each run."""

import json
import os
from pathlib import Path

import torch

from plainres.devices import job_device
from plainres.runfolder import GroupFolder
from plainres.train import run_job

with open(snakemake.log[0], "w") as log:
    os.dup2(log.fileno(), 2)  # stderr (fd 2: Python's, C code's, child processes') → this job's log

job = json.loads(snakemake.params.job)
torch.set_num_threads(snakemake.threads)
gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
seconds = {}
with job_device(job["device"], gpus, Path(".snakemake/gpu-locks")) as device:
    results = run_job(job, Path(snakemake.input.data), device, seconds)
GroupFolder(Path(snakemake.output.done).parent).write_done(
    [{"run_id": run.run_id, "dir": folder, "status": status} for run, folder, status in results],
    {k: round(v, 3) for k, v in seconds.items()},  # where this job's time went in the engine
)
