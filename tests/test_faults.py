"""Faults a user meets, each with a clear message and a way back: an unreadable checkpoint is set aside, every
unreadable run file is named with the command that rebuilds it, a killed controller's lock is recovered."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import REPO, SNAKEMAKE, run

from plainres import lock, retrain
from plainres.data import save_cached, synthetic
from plainres.files import Unreadable, load_torch, save_torch
from plainres.runfolder import RunFileError, RunFolder
from plainres.tables import collect
from plainres.train import Run, TrainConfig, train_group

CFG = TrainConfig(epochs=2, lr=0.05, milestones=(1,), batch_size=32, snapshot_epochs=(0, -1))
RUNS = [Run("simplified", "residual", 5, "hmwi", seed=s) for s in (0, 1)]


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    save_cached(synthetic(96, 32, seed=1), {"kind": "synthetic"}, "cifar10", out / "cifar10.pt", out / "cifar10.json")
    return out / "cifar10.pt"


def train_in_layout(root: Path, data_file: Path, cfg=CFG) -> tuple[Path, list[Path]]:
    """A seed group trained into the pipeline's layout: results/runs/<experiment>/{_groups/<group>, <run-id>}."""
    experiment = root / "results" / "runs" / "table1"
    group = experiment / "_groups" / f"{RUNS[0].run_id}-1"
    outs = [experiment / r.run_id for r in RUNS]
    train_group(RUNS, cfg, data_file, outs, group / "checkpoint.pt", device="cpu")
    (group / "done.json").write_text('{"runs": []}\n')  # as the workflow's train script writes it
    return group, outs


def finals(outs):
    return [load_torch(o / "final.pt")["state_dict"] for o in outs]


def truncate(path: Path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_a_byte(path: Path):
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 3] ^= 0xFF  # inside a tensor's data: torch.load alone would load it, silently wrong
    path.write_bytes(bytes(blob))


# ---------------------------------------------------------------- torch files with their SHA-256


def test_a_torch_file_is_checked_against_its_sha256_and_still_reads_with_torch_load(tmp_path):
    weights = {"w": torch.randn(200, 50, dtype=torch.float64)}
    save_torch(weights, tmp_path / "a.pt")
    assert torch.equal(load_torch(tmp_path / "a.pt")["w"], weights["w"])
    assert torch.equal(torch.load(tmp_path / "a.pt", weights_only=False)["w"], weights["w"])  # the footer is ignored
    torch.save(weights, tmp_path / "legacy.pt")  # written before the footer: loads unchecked
    assert torch.equal(load_torch(tmp_path / "legacy.pt")["w"], weights["w"])
    for damage, name in ((flip_a_byte, "flipped.pt"), (truncate, "cut.pt")):
        shutil.copy(tmp_path / "a.pt", tmp_path / name)
        damage(tmp_path / name)
        with pytest.raises(Unreadable, match=f"{tmp_path / name} cannot be read"):
            load_torch(tmp_path / name)
    flip_a_byte(tmp_path / "legacy.pt")  # what the footer prevents: no error, wrong values
    assert not torch.equal(torch.load(tmp_path / "legacy.pt", weights_only=False)["w"], weights["w"])


# ---------------------------------------------------------------- an unreadable checkpoint is set aside


@pytest.mark.parametrize("damage", [truncate, flip_a_byte])
def test_an_unreadable_checkpoint_is_set_aside_with_one_warning_and_the_group_trains_afresh(
    tmp_path, data_file, damage
):
    _, clean = train_in_layout(tmp_path / "clean", data_file)
    group, outs = train_in_layout(tmp_path / "damaged", data_file)
    damage(group / "checkpoint.pt")
    with pytest.warns(UserWarning) as caught:
        train_group(RUNS, CFG, data_file, outs, group / "checkpoint.pt", device="cpu")
    messages = [str(w.message) for w in caught if "cannot be read" in str(w.message)]
    assert len(messages) == 1 and str(group / "checkpoint.pt") in messages[0] and "afresh" in messages[0]
    aside = list(group.glob("checkpoint.pt.corrupt-*"))
    assert len(aside) == 1 and aside[0].name in messages[0]
    for a, b in zip(finals(clean), finals(outs)):  # trained from scratch: the clean run's weights, bit for bit
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_torch(group / "checkpoint.pt")["state"]["epoch"] == CFG.epochs


# ---------------------------------------------------------------- every unreadable run file is named


def test_each_unreadable_run_file_is_named_with_the_command_that_rebuilds_it(tmp_path, data_file):
    group, outs = train_in_layout(tmp_path, data_file)
    done = group / "done.json"
    done.write_text(f'{{"runs": [{{"run_id": "{RUNS[0].run_id}", "dir": "{outs[0]}", "status": "finished"}}]}}\n')
    truncate(outs[0] / "snapshots" / "epoch_0.pt")
    flip_a_byte(outs[0] / "final.pt")
    for snapshot, file in (("epoch_0", "snapshots/epoch_0.pt"), ("final", "final.pt")):
        with pytest.raises(RunFileError) as error:
            RunFolder(outs[0]).state(snapshot)
        assert str(outs[0] / file) in str(error.value) and f"make retrain RUN={outs[0]} " in str(error.value)
    (outs[0] / "metrics.csv").write_text("epoch,wall_s\n")
    with pytest.raises(RunFileError, match=r"metrics\.csv cannot be read .*no column train_loss.*make retrain"):
        collect([done])
    (outs[0] / "config.json").write_text('{"run": ')
    for read in (lambda: collect([done]), lambda: RunFolder(outs[0]).record(), lambda: RunFolder(outs[0]).net("final")):
        with pytest.raises(RunFileError, match=r"config\.json cannot be read \(JSONDecodeError"):
            read()


def test_retrain_resets_the_whole_group_of_a_run_from_any_file_in_it(tmp_path, data_file, capsys, monkeypatch):
    group, outs = train_in_layout(tmp_path, data_file)
    other_group, _ = train_in_layout(tmp_path / "other", data_file)  # another experiment's: untouched
    flip_a_byte(group / "checkpoint.pt")
    (group / "checkpoint.pt.corrupt-20261203T000000").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    retrain.main([str((outs[1] / "snapshots" / "epoch_0.pt").relative_to(tmp_path))])
    printed = capsys.readouterr().out.split()
    assert printed == [str((group / "done.json").relative_to(tmp_path))]
    assert not any(p.exists() for p in (*outs, group / "checkpoint.pt", group / "job.json", group / "done.json"))
    assert not list(group.glob("checkpoint.pt.corrupt-*"))
    assert (other_group / "checkpoint.pt").exists()
    with pytest.raises(SystemExit, match="is in no run's folder"):
        retrain.main([str(tmp_path / "elsewhere" / "final.pt")])


# ---------------------------------------------------------------- a stale lock, and a live one


def test_a_stale_lock_is_removed_and_a_live_snakemakes_lock_is_left_with_its_process_named(tmp_path, capsys):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    # a live "snakemake" here: a process whose command line names it, with this working directory
    live = subprocess.Popen(["bash", "-c", "exec -a snakemake-controller sleep 60"], cwd=tmp_path)
    try:
        time.sleep(0.3)
        assert lock.recover(tmp_path) == 1 and (locks / "0.input.lock").exists()
        assert f"pid {live.pid}: snakemake-controller" in capsys.readouterr().err
    finally:
        live.kill()
        live.wait()
    assert lock.recover(tmp_path) == 0 and not any(locks.iterdir())
    assert "removed a stale Snakemake lock" in capsys.readouterr().err
    assert lock.recover(tmp_path) == 0  # no lock: nothing to do


# ---------------------------------------------------------------- through Snakemake and make, as a user would


def copy_of_the_repository(root: Path) -> Path:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, root / name)
    return root


def make(root: Path, *args) -> subprocess.CompletedProcess:
    """`make …` in a copy of the repository with this session's .venv (-o: never reinstall it)."""
    venv = REPO / ".venv"
    return subprocess.run(
        ["make", f"VENV={venv}", "-o", str(venv / ".installed"), *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )


needs_make = pytest.mark.skipif(
    shutil.which("make") is None or not (REPO / ".venv" / "bin" / "snakemake").exists(),
    reason="needs make and the .venv that `make test` creates",
)


@pytest.mark.slow
@needs_make
def test_a_controller_killed_with_sigkill_restarts_with_the_readme_command(tmp_path):
    root = copy_of_the_repository(tmp_path / "repo")
    controller = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "1", "yt_table1", "--config", "scale=smoke"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 600
    while not list((root / "results" / "runs").glob("*/_groups/*/checkpoint.pt")):  # a training job is under way
        assert controller.poll() is None and time.time() < deadline, "the controller ended before training"
        time.sleep(0.2)
    os.killpg(controller.pid, signal.SIGKILL)  # the controller and its job, as an OOM kill or power loss would
    controller.wait()
    assert any((root / ".snakemake" / "locks").iterdir())
    again = run(root, "yt_table1", "--config", "scale=smoke")  # what Snakemake alone says (a dry run takes no lock)
    assert again.returncode != 0 and "LockException" in again.stdout + again.stderr
    done = make(root, "run", "TARGET=yt_table1", "CONFIG=scale=smoke")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "removed a stale Snakemake lock" in done.stderr
    assert (root / "results" / "tables" / "yt_table1.md").exists()


@pytest.mark.slow
@needs_make
def test_a_corrupt_snapshot_is_named_and_make_retrain_repairs_it(tmp_path):
    root = copy_of_the_repository(tmp_path / "repo")
    built = make(root, "run", "TARGET=yt_table3", "CONFIG=scale=smoke")
    assert built.returncode == 0, built.stderr[-3000:]
    snapshot = sorted((root / "results" / "runs").glob("table1/*-d8-*/snapshots/epoch_0.pt"))[0]  # Table 3's depth
    truncate(snapshot)
    failed = subprocess.run(
        [*SNAKEMAKE, "yt_table3", "--forcerun", "yt_table3", "--config", "scale=smoke"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    relative = snapshot.relative_to(root)
    assert failed.returncode != 0 and f"{relative} cannot be read" in failed.stderr
    assert f"make retrain RUN={relative.parent.parent}" in failed.stderr
    repaired = make(root, "retrain", f"RUN={relative}", "TARGET=yt_table3", "CONFIG=scale=smoke")
    assert repaired.returncode == 0, repaired.stdout[-2000:] + repaired.stderr[-3000:]
    assert load_torch(snapshot)["epoch"] == 0
    assert (root / "results" / "tables" / "yt_table3.md").stat().st_mtime > snapshot.stat().st_mtime
