"""Distinct GPUs for concurrent jobs on one machine. Snakemake's `gpu` resource only counts jobs;
each training job therefore claims one GPU by an exclusive lock file named by the GPU's UUID, one folder of locks
per machine (a shared file system sees every node's): jobs that see the same GPU take turns, jobs that see
different ones (SLURM gives each its own, all numbered 0) never wait for each other. The kernel drops the lock
when the process ends, however it ends, so a killed job never strands a GPU."""

from __future__ import annotations

import contextlib
import fcntl
import socket
import sys
import time
from pathlib import Path


@contextlib.contextmanager
def claim_gpu(n_gpus: int, lock_dir: Path, poll_s: float = 0.5, names: list[str] | None = None):
    """Hold one of GPUs 0..n_gpus−1 exclusively among the processes sharing `lock_dir`; yields its index. `names`:
    each GPU's identity (its UUID), which names its lock; by default its index."""
    if n_gpus < 1:
        raise ValueError("claim_gpu needs at least one GPU")
    names = names or [str(i) for i in range(n_gpus)]
    lock_dir.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        for index in range(n_gpus):
            handle = open(lock_dir / f"gpu-{names[index]}.lock", "w")
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
def job_device(requested: str, visible_gpus: int, lock_dir: Path, names: list[str] | None = None):
    """The device a training job uses, held for the job's life.

    'auto' or 'cuda' on a machine that shows GPUs claims one of them, also when it shows one (jobs running at once
    take turns, never share it; under SLURM each job sees its own); an explicit index or 'cpu' needs no claim, and
    'auto' without a GPU is the CPU.
    """
    if requested in ("auto", "cuda") and visible_gpus >= 1:
        with claim_gpu(visible_gpus, lock_dir / socket.gethostname(), names=names) as index:
            yield f"cuda:{index}"
    else:
        yield "cpu" if requested == "auto" else requested
