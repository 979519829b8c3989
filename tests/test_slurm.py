"""The slurm profile against a real SLURM (tests/slurm_cluster.py): the smoke scale goes through sbatch and
ends identical to a local run; a training job stopped mid-run (its process killed, requeued as SLURM preempts,
or cancelled) runs again and resumes from its checkpoint to the very weights of an uninterrupted run; the
cluster's daemons are stopped by PID, also after a failure."""

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, SNAKEMAKE, run
from slurm_cluster import (
    CONF_DIR,
    CONF_FILES,
    DAEMONS,
    SingleNodeSlurm,
    _running,
    missing,
)

pytestmark = pytest.mark.slow
PROFILE = ["--profile", str(REPO / "workflow" / "profiles" / "slurm")]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    why = missing()
    if why:
        pytest.skip(why)
    with SingleNodeSlurm(tmp_path_factory.mktemp("slurm")) as started:
        yield started


def run_dirs(results: Path) -> dict[str, Path]:
    return {f"{d.parent.name}/{d.name}": d for d in (results / "runs").glob("*/*") if d.name != "_groups"}


def metrics(run_dir: Path) -> list[dict]:
    """A run's metrics rows without the wall-clock column."""
    with open(run_dir / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "wall_s"} for row in csv.DictReader(f)]


def same_run(a: Path, b: Path):
    assert metrics(a) == metrics(b), a.name
    wa = torch.load(a / "final.pt", weights_only=False)["state_dict"]
    wb = torch.load(b / "final.pt", weights_only=False)["state_dict"]
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa), a.name


def test_the_cluster_stops_every_daemon_it_started_also_when_the_block_fails(tmp_path):
    """First in the module: it runs its own cluster before the module's one starts."""
    why = missing()
    if why:
        pytest.skip(why)
    with pytest.raises(RuntimeError, match="on purpose"), SingleNodeSlurm(tmp_path) as started:
        pids = {name: int(path.read_text().split()[0]) for name, path in started.pids.items()}
        assert set(pids) == set(DAEMONS)
        raise RuntimeError("on purpose")
    assert not [name for name, pid in pids.items() if _running(pid)]
    assert not any(p.exists() for p in started.written)


def test_the_cluster_stops_every_daemon_it_started_when_its_process_gets_sigterm(tmp_path):
    """A CI timeout or `kill` sends SIGTERM: the block is left as by an exception, so the daemons stop."""
    why = missing()
    if why:
        pytest.skip(why)
    script = (
        f"import sys, time; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        "from pathlib import Path; from slurm_cluster import SingleNodeSlurm\n"
        f"with SingleNodeSlurm(Path({str(tmp_path)!r})) as c:\n"
        "    print(' '.join(f'{n}={p.read_text().split()[0]}' for n, p in c.pids.items()), flush=True)\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = {name: int(pid) for name, pid in (kv.split("=") for kv in holder.stdout.readline().split())}
        assert set(pids) == set(DAEMONS), "the cluster did not start"
        holder.send_signal(signal.SIGTERM)
        assert holder.wait(timeout=90) == 128 + signal.SIGTERM
    finally:
        holder.kill()
    assert not [name for name, pid in pids.items() if _running(pid)]
    assert not [f for f in CONF_FILES if (CONF_DIR / f).exists()]


def test_the_smoke_scale_through_the_profile_trains_every_job_with_sbatch_and_matches_a_local_run(
    cluster, smoke, tmp_path
):
    before = {j["JobID"] for j in cluster.sacct("JobID")}
    # the same threads per job as the local run: float32 results depend on the thread count
    done = run(tmp_path, *PROFILE, "--config", "scale=smoke", env=cluster.env)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = [j for j in cluster.sacct("JobID", "JobName", "State", "AllocTRES") if j["JobID"] not in before]
    groups = list((tmp_path / "results" / "runs").glob("*/_groups/*/done.json"))
    assert len(jobs) == len(groups) == 31  # every training job, and nothing else, went through sbatch
    assert all(j["State"] == "COMPLETED" and "gres/gpu=1" in j["AllocTRES"] for j in jobs), jobs
    ours, local = run_dirs(tmp_path / "results"), run_dirs(smoke / "results")
    assert ours.keys() == local.keys()
    for name in ours:
        same_run(ours[name], local[name])
    for table in ("yt_table1", "yt_table2", "yt_table5"):
        rows = [(p / "results" / "tables" / f"{table}.csv").read_text().splitlines() for p in (tmp_path, smoke)]
        assert [r for r in rows[0] if not r.startswith("#")] == [r for r in rows[1] if not r.startswith("#")]


LONGER = [
    "--config",
    "scale=smoke",
    "experiments={fig10: {depths: [8], train: {epochs: 40, milestones: [30]}}}",
    "figures={yt_fig10: {depth: 8}}",
]
GROUP = "simplified-residual-d8-hmwi-s0"
TARGET = f"results/runs/fig10/_groups/{GROUP}/done.json"


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """The 40-epoch job trained locally without a break."""
    work = tmp_path_factory.mktemp("uninterrupted")
    done = run(work, TARGET, *LONGER)
    assert done.returncode == 0, done.stderr[-3000:]
    return work / "results" / "runs" / "fig10" / GROUP


def kill_the_training_process(cluster, job_id):
    """As a node failure or the OOM killer would: the job ends FAILED and Snakemake resubmits it."""
    trainer = subprocess.run(
        ["pgrep", "-f", r"\.snakemake/scripts/tmp.*train\.py"], capture_output=True, text=True, check=True
    ).stdout.split()
    subprocess.run(["kill", "-9", *trainer], check=True)


def requeue(cluster, job_id):
    """What SLURM does to a job preempted under PreemptMode=REQUEUE: SLURM itself starts it again, same job id."""
    subprocess.run(["scontrol", "requeue", job_id], env=cluster.env, check=True)


def scancel(cluster, job_id):
    subprocess.run(["scancel", job_id], env=cluster.env, check=True)


# (how the job is ended, extra Snakemake arguments, the job's sacct states in order). A cancelled job's state
# reads "CANCELLED by <uid>", which plugin 2.8.0's sacct check does not match: it would wait for the job for
# ever, so that case runs with the profile's documented alternative, `slurm-status-command: squeue`.
PREEMPTIONS = {
    "killed": (kill_the_training_process, [], ["FAILED", "COMPLETED"]),
    "requeued": (requeue, [], ["REQUEUED", "COMPLETED"]),
    "cancelled": (scancel, ["--slurm-status-command", "squeue"], ["CANCELLED", "COMPLETED"]),
}


@pytest.mark.parametrize("how", PREEMPTIONS)
def test_a_preempted_training_job_is_run_again_and_resumes_to_the_uninterrupted_weights(
    cluster, uninterrupted, tmp_path, how
):
    end_job, extra, states = PREEMPTIONS[how]
    rows = tmp_path / "results" / "runs" / "fig10" / GROUP / "metrics.csv"
    before = {j["JobID"] for j in cluster.sacct("JobID")}
    job = subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(tmp_path), *PROFILE, "--slurm-keep-successful-logs", *extra, TARGET, *LONGER],
        env=cluster.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    end = time.monotonic() + 600
    while not (rows.exists() and len(rows.read_text().splitlines()) >= 5):  # header, epoch 0 and 3 epochs
        assert job.poll() is None and time.monotonic() < end, "the job ended before it could be stopped"
        time.sleep(0.1)
    running = subprocess.run(
        ["squeue", "-h", "-o", "%i"], env=cluster.env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert len(running) == 1
    end_job(cluster, running[0])
    try:
        out, _ = job.communicate(timeout=900)
    finally:
        job.kill()
    assert job.returncode == 0, out[-3000:]
    jobs = [j for j in cluster.sacct("JobID", "State", duplicates=True) if j["JobID"] not in before]
    assert [j["State"].split(" by ")[0] for j in jobs] == states, jobs
    log = tmp_path / "results" / "logs" / "train" / "fig10" / f"{GROUP}.log"  # the job's stderr, last attempt's
    assert "resuming after epoch" in log.read_text()
    same_run(rows.parent, uninterrupted)
