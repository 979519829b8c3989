"""The slurm profile against a real SLURM (tests/slurm_cluster.py): the smoke scale goes through sbatch and
ends identical to a local run; a training job killed mid-run is resubmitted and resumes from its checkpoint
to the very weights of an uninterrupted run; the cluster's daemons are stopped by PID, also after a failure."""
import csv
import subprocess
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, SNAKEMAKE, run
from slurm_cluster import SingleNodeSlurm, _running, missing

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
        assert set(pids) == {"munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd"}
        raise RuntimeError("on purpose")
    assert not [name for name, pid in pids.items() if _running(pid)]
    assert not any(p.exists() for p in started.written)


def test_the_smoke_scale_through_the_profile_trains_every_job_with_sbatch_and_matches_a_local_run(cluster, smoke,
                                                                                                   tmp_path):
    before = {j["JobID"] for j in cluster.sacct("JobID")}
    # the same threads per job as the local run: float32 results depend on the thread count
    done = run(tmp_path, *PROFILE, "--config", "scale=smoke", env=cluster.env)
    assert done.returncode == 0, done.stderr[-3000:]
    jobs = [j for j in cluster.sacct("JobID", "JobName", "State", "AllocTRES") if j["JobID"] not in before]
    groups = list((tmp_path / "results" / "runs").glob("*/_groups/*/done.json"))
    assert len(jobs) == len(groups) == 35  # every training job, and nothing else, went through sbatch
    assert all(j["State"] == "COMPLETED" and "gres/gpu=1" in j["AllocTRES"] for j in jobs), jobs
    ours, local = run_dirs(tmp_path / "results"), run_dirs(smoke / "results")
    assert ours.keys() == local.keys()
    for name in ours:
        same_run(ours[name], local[name])
    for table in ("yt_table1", "yt_table2", "yt_table5"):
        rows = [(p / "results" / "tables" / f"{table}.csv").read_text().splitlines() for p in (tmp_path, smoke)]
        assert [r for r in rows[0] if not r.startswith("#")] == [r for r in rows[1] if not r.startswith("#")]


def test_a_killed_training_job_is_resubmitted_and_resumes_to_the_uninterrupted_weights(cluster, tmp_path):
    longer = "experiments={fig10: {depths: [8], train: {epochs: 40, milestones: [30]}}}"
    config = ["--config", "scale=smoke", longer, "measures={yt_fig10: {depth: 8}}"]
    group = "simplified-residual-d8-hmwi-s0"
    target = f"results/runs/fig10/_groups/{group}/done.json"
    rows = tmp_path / "slurm" / "results" / "runs" / "fig10" / group / "metrics.csv"
    job = subprocess.Popen([*SNAKEMAKE, "--directory", str(tmp_path / "slurm"), *PROFILE,
                            "--slurm-keep-successful-logs", target, *config], env=cluster.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
    end = time.monotonic() + 600
    while not (rows.exists() and len(rows.read_text().splitlines()) >= 5):  # header, epoch 0 and 3 epochs
        assert job.poll() is None and time.monotonic() < end, "the job ended before it could be killed"
        time.sleep(0.1)
    running = subprocess.run(["squeue", "-h", "-o", "%i"], env=cluster.env, capture_output=True, text=True,
                             check=True).stdout.split()
    assert len(running) == 1
    # the job's training process killed, as a node failure or the OOM killer would: the job ends FAILED. (A job
    # ended by `scancel` shows as "CANCELLED by 0", which plugin 2.8.0 did not act on within minutes here.)
    trainer = subprocess.run(["pgrep", "-f", r"\.snakemake/scripts/tmp.*train\.py"], capture_output=True, text=True,
                             check=True).stdout.split()
    subprocess.run(["kill", "-9", *trainer], check=True)
    out, _ = job.communicate(timeout=900)
    assert job.returncode == 0, out[-3000:]
    states = [j["State"] for j in cluster.sacct("JobID", "State") if int(j["JobID"]) >= int(running[0])]
    assert states[0] == "FAILED" and states[-1] == "COMPLETED", states
    logs = "".join(p.read_text() for p in (tmp_path / "slurm" / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert "resuming after epoch" in logs
    done = run(tmp_path / "local", target, *config)
    assert done.returncode == 0, done.stderr[-3000:]
    same_run(rows.parent, tmp_path / "local" / "results" / "runs" / "fig10" / group)
