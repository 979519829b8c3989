"""GPU claims for concurrent jobs, tested with processes and lock files (no GPU needed)."""

import json
import os
import signal
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
        ("auto", 1, "auto"),
        ("cpu", 4, "cpu"),
    ],
)
def test_job_device_claims_only_when_several_gpus_are_shared(tmp_path, requested, visible, expected):
    with job_device(requested, visible, tmp_path) as device:
        assert device == expected
        if expected == "cuda:0":
            with job_device(requested, visible, tmp_path) as second:
                assert second == "cuda:1"
