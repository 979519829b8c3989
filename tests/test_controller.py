"""`make run`, `make report` and `make retrain` as users meet them (plainres.controller): CONFIG checked before
anything runs, one controller at a time in a directory, the report written whole and beside the full one for a
single target, a project and a data source in paths with spaces."""

import os
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, copy_of_the_repository, image_folder, make, needs_make, run_controller, tar_of

from plainres import controller, lock


@pytest.mark.parametrize(
    "words,says",
    [
        (["experiments={table1:", "{seeds:", "[0]}}"], "CONFIG: 'experiments={table1:' is not a whole YAML value"),
        (["{seeds:"], "CONFIG: '{seeds:' is not KEY=VALUE"),
        (["scale"], "CONFIG: 'scale' is not KEY=VALUE"),
        (["train=[1, 2"], "CONFIG: 'train=[1, 2' is not a whole YAML value"),
    ],
)
def test_a_config_word_that_lost_its_quotes_is_refused(words, says):
    with pytest.raises(controller.Refused) as refused:
        controller.check_overrides(words)
    assert str(refused.value).startswith(says) and "needs quotes inside CONFIG" in str(refused.value)


def test_config_words_as_the_shell_leaves_quoted_values_pass():
    controller.check_overrides(["scale=smoke", "experiments={table1: {seeds: [0]}}", "data_source=/my data/c.tar.gz"])


@pytest.mark.skipif(shutil.which("make") is None or shutil.which("nproc") is None, reason="needs make and nproc")
@pytest.mark.parametrize("given", [[], ["CORES=3"]])
def test_make_run_and_make_bundle_give_snakemake_every_core_unless_cores_says(given):
    every = subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    cores = 3 if given else every
    for action in ("run", "bundle"):
        printed = subprocess.run(["make", "-n", action, *given], cwd=REPO, capture_output=True, text=True, check=True)
        assert f"plainres.controller {action} --target all --cores {cores} " in printed.stdout


@needs_make
def test_an_unquoted_nested_config_is_one_line_from_make(tmp_path):
    root = copy_of_the_repository(tmp_path / "repo")
    done = make(root, "run", "CONFIG=experiments={table1: {seeds: [0]}}")
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: CONFIG: 'experiments={table1:' is not a whole YAML value")
    assert not (root / "results").exists() and not (root / ".snakemake" / "locks").exists()


def test_two_controllers_started_in_the_same_instant_one_holds_the_lock_and_the_other_is_told(tmp_path):
    hold = (
        "import sys, time; from pathlib import Path; from plainres import lock\n"
        "try:\n"
        "    with lock.held(Path(sys.argv[1]), 'make run ' + sys.argv[2]):\n"
        "        time.sleep(8)\n"  # long enough for every contender to start meanwhile
        "except lock.Busy as busy:\n"
        "    sys.exit(str(busy))\n"
    )
    contenders = [
        subprocess.Popen([sys.executable, "-c", hold, str(tmp_path), str(i)], stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    told = [c.communicate(timeout=60)[1] for c in contenders]
    assert sorted(c.returncode for c in contenders) == [0, 1, 1, 1], told
    winner = next(i for i, c in enumerate(contenders) if c.returncode == 0)
    assert all(f"make run {winner} is running in this directory" in t for t in told if t), told


@needs_make
@pytest.mark.parametrize("action", ["run", "report", "retrain"])
def test_make_run_report_and_retrain_each_wait_for_no_other_controller(tmp_path, action):
    root = copy_of_the_repository(tmp_path / "repo")
    with lock.held(root, "make run TARGET=yt_table1"):
        done = make(root, action, "TARGET=yt_fig4", "CONFIG=scale=smoke", "RUN=results/runs/table1")
    assert done.returncode != 0
    assert "error: pid " in done.stderr and "make run TARGET=yt_table1 is running in this directory" in done.stderr
    assert not (root / "results").exists()


def test_one_targets_report_is_written_beside_the_full_report_and_whole(tmp_path):
    full = tmp_path / "results" / "report.html"
    full.parent.mkdir(parents=True)
    full.write_text("the full report, untouched")
    done = run_controller("run", tmp_path, "scale=smoke")
    assert done.returncode == 0, done.stderr[-3000:]
    report = tmp_path / "results" / "report-yt_fig4.html"
    assert report.read_text().rstrip().endswith("</html>") and "yt_fig4" in report.read_text()
    assert full.read_text() == "the full report, untouched"
    assert not list((tmp_path / "results").glob(".*partial*"))


@pytest.mark.slow
@needs_make
def test_a_project_and_a_data_source_in_paths_with_spaces_build_with_the_readme_command(tmp_path):
    root = copy_of_the_repository(tmp_path / "sp ace" / "plain res")
    os.symlink(REPO / ".venv", root / ".venv")  # the Python the jobs run is <root>/.venv/bin/python: spaces in it
    images = image_folder(tmp_path / "my data" / "cifar10-png", train=6, test=3)
    source = tar_of(images, tmp_path / "my data" / "cifar10 copy.tar.gz")
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "run", "TARGET=yt_table2", f"CONFIG=scale=smoke data_source='{source}'"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert (root / "results" / "tables" / "yt_table2.md").exists()
    assert (root / "results" / "report-yt_table2.html").exists()
    assert str(source) in (root / "results" / "tables" / "yt_table2.md").read_text()
