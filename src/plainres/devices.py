"""Distinct GPUs for concurrent jobs on one machine. Snakemake's `gpu` resource only counts jobs;
each training job therefore claims one GPU index by an exclusive lock file. The kernel drops the
lock when the process ends, however it ends, so a killed job never strands a GPU."""

from __future__ import annotations

import contextlib
import fcntl
import sys
import time
from pathlib import Path


@contextlib.contextmanager
def claim_gpu(n_gpus: int, lock_dir: Path, poll_s: float = 0.5):
    """Hold one of GPUs 0..n_gpus−1 exclusively among the processes sharing `lock_dir`; yields its index."""
    if n_gpus < 1:
        raise ValueError("claim_gpu needs at least one GPU")
    lock_dir.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        for index in range(n_gpus):
            handle = open(lock_dir / f"gpu{index}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            try:
                yield index
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if not waited:
            print(f"all {n_gpus} GPUs are taken by other jobs; waiting", file=sys.stderr, flush=True)
            waited = True
        time.sleep(poll_s)


@contextlib.contextmanager
def job_device(requested: str, visible_gpus: int, lock_dir: Path):
    """The device a training job uses, held for the job's life.

    'auto' or 'cuda' on a machine that shows several GPUs claims one of them; an explicit index,
    a single visible GPU (under SLURM the others are hidden) or 'cpu' needs no claim.
    """
    if requested in ("auto", "cuda") and visible_gpus > 1:
        with claim_gpu(visible_gpus, lock_dir) as index:
            yield f"cuda:{index}"
    else:
        yield requested
