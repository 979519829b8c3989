"""Train stage: one seed group; resumes from its checkpoint; records what became of each run."""
import json
from pathlib import Path

import torch

from plainres.data import atomic_write_bytes
from plainres.devices import job_device
from plainres.train import Run, TrainConfig, train_group

job = json.loads(snakemake.params.job)  # noqa: F821 (injected by Snakemake)
torch.set_num_threads(snakemake.threads)  # noqa: F821
runs = [Run(**r) for r in job["runs"]]
cfg = TrainConfig.from_dict(job["train"])
gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
with job_device(job["device"], gpus, Path(".snakemake/gpu-locks")) as device:
    statuses = train_group(runs, cfg, Path(snakemake.input.data), [Path(d) for d in job["out_dirs"]],  # noqa: F821
                           Path(job["checkpoint"]), device)
done = {"runs": [{"run_id": r.run_id, "dir": d, "status": s} for r, d, s in zip(runs, job["out_dirs"], statuses)]}
atomic_write_bytes(Path(snakemake.output.done), (json.dumps(done, indent=2) + "\n").encode())  # noqa: F821
