"""GPU claims for concurrent jobs, tested with processes and lock files (no GPU needed)."""

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from plainres.devices import claim_gpu, job_device

HOLDER = """
import json, sys, time
from pathlib import Path
from plainres.devices import claim_gpu
with claim_gpu(int(sys.argv[1]), Path(sys.argv[2]), poll_s=0.02) as gpu:
    start = time.monotonic()
    print(json.dumps({"gpu": gpu, "start": start}), flush=True)
    time.sleep(float(sys.argv[3]))
    print(json.dumps({"gpu": gpu, "end": time.monotonic()}), flush=True)
"""


def holder(n, lock_dir, seconds):
    return subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(n), str(lock_dir), str(seconds)], stdout=subprocess.PIPE, text=True
    )


def test_concurrent_jobs_get_distinct_gpus_and_wait_when_all_are_taken(tmp_path):
    jobs = [holder(2, tmp_path, 0.6) for _ in range(4)]
    spans = []
    for job in jobs:
        out, _ = job.communicate(timeout=60)
        start, end = (json.loads(line) for line in out.splitlines())
        spans.append((start["gpu"], start["start"], end["end"]))
    assert {g for g, _, _ in spans} == {0, 1}
    for i, (g1, s1, e1) in enumerate(spans):
        for g2, s2, e2 in spans[i + 1 :]:
            if g1 == g2:
                assert e1 <= s2 or e2 <= s1, "two jobs held the same GPU at once"
    assert max(e for _, _, e in spans) - min(s for _, s, _ in spans) >= 1.2  # 4 jobs on 2 GPUs: two rounds


def test_a_killed_job_releases_its_gpu(tmp_path):
    job = holder(1, tmp_path, 60)
    assert json.loads(job.stdout.readline())["gpu"] == 0
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    with claim_gpu(1, tmp_path, poll_s=0.02) as gpu:
        assert gpu == 0


@pytest.mark.parametrize(
    "requested,visible,expected",
    [
        ("auto", 4, "cuda:0"),
        ("cuda", 2, "cuda:0"),
        ("cuda:3", 4, "cuda:3"),
        ("auto", 1, "cuda:0"),
        ("auto", 0, "cpu"),
        ("cpu", 4, "cpu"),
    ],
)
def test_job_device_claims_a_gpu_wherever_the_machine_shows_one(tmp_path, requested, visible, expected):
    with job_device(requested, visible, tmp_path) as device:
        assert device == expected
        if expected == "cuda:0" and visible > 1:
            with job_device(requested, visible, tmp_path) as second:
                assert second == "cuda:1"
    assert not expected.startswith("cuda:0") or list((tmp_path / socket.gethostname()).glob("gpu-*.lock"))


def test_jobs_that_see_different_gpus_by_the_same_index_do_not_wait_for_each_other(tmp_path):
    """Under SLURM each job sees its own GPU as GPU 0: the locks are named by the GPUs' UUIDs."""
    with (
        job_device("auto", 1, tmp_path, ["GPU-aaaa"]) as first,
        job_device("auto", 1, tmp_path, ["GPU-bbbb"]) as second,
    ):
        assert first == second == "cuda:0"


def test_a_job_uses_the_gpu_it_claimed_and_compiles_with_its_own_threads(tmp_path, monkeypatch):
    """With a mocked torch.cuda: two jobs on a machine that shows two GPUs each claim one, make it the current
    device (so that inductor and Triton use it) and limit inductor's compile workers to the job's threads."""
    import torch

    from plainres import train

    current, ran = [], []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: current.append(str(device)))
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: type("Properties", (), {"uuid": f"GPU-{i}"}))
    monkeypatch.setattr(train, "run_job", lambda job, data, device: ran.append(device) or [])
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    monkeypatch.delenv("TORCHINDUCTOR_COMPILE_THREADS", raising=False)
    with job_device("auto", 2, tmp_path, ["GPU-0", "GPU-1"]):  # another job holds GPU 0
        train.run_claimed({"device": "auto"}, tmp_path / "data.pt", 6, tmp_path)
    assert current == ["cuda:1"] and ran == ["cuda:1"] and os.environ["TORCHINDUCTOR_COMPILE_THREADS"] == "6"
    train.run_claimed({"device": "cpu"}, tmp_path / "data.pt", 2, tmp_path)
    assert current == ["cuda:1"] and ran[-1] == "cpu"
