"""The data stage as users run it: through Snakemake, with the config validated first."""
import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--cores", "1"]


def run(workdir: Path, *args):
    return subprocess.run([*SNAKEMAKE, "--directory", str(workdir), "--configfile", str(REPO / "config.yaml"),
                           *args], capture_output=True, text=True, timeout=300)


def test_synthetic_data_stage_builds_and_is_not_rebuilt(tmp_path):
    done = run(tmp_path, "--config", "data_source=synthetic")
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "results" / "data" / "cifar10.json").read_text())
    assert meta["source"]["kind"] == "synthetic" and meta["counts"]["train"] > 0
    again = run(tmp_path, "--config", "data_source=synthetic", "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_a_misspelt_key_or_bad_value_fails_before_any_job_naming_it(tmp_path):
    bad_key = run(tmp_path, "--config", "datset=cifar10")
    assert bad_key.returncode != 0 and "'datset' was unexpected" in bad_key.stderr
    bad_value = run(tmp_path, "--config", "dataset=cifar11")
    assert bad_value.returncode != 0 and "'cifar11' is not one of" in bad_value.stderr
    assert not (tmp_path / "results").exists()


def test_a_bad_source_fails_clearly_and_builds_nothing(tmp_path):
    done = run(tmp_path, "--config", f"data_source={tmp_path / 'nowhere'}")
    assert done.returncode != 0
    assert "error: data_source" in done.stderr and "no such file or directory" in done.stderr
    assert not (tmp_path / "results" / "data" / "cifar10.pt").exists()
