"""Faults a user meets, each with a clear message and a way back: an unreadable checkpoint is set aside, every
unreadable run file is named with the command that rebuilds it, a killed controller's lock is recovered."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from conftest import REPO, SNAKEMAKE, copy_of_the_repository, make, needs_make, run, run_controller

from plainres import lock, retrain, verify
from plainres.collect import collect
from plainres.data import save_cached, synthetic
from plainres.figures.curves import iterations
from plainres.files import Unreadable, digest, load_torch, parse_sealed_json, save_torch, sealed_json, write_sealed_json
from plainres.runfolder import RunFileError, RunFolder
from plainres.runs import Run, TrainConfig
from plainres.train import train_group

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
    train_group(RUNS, cfg, data_file, outs, group, device="cpu")
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
        train_group(RUNS, CFG, data_file, outs, group, device="cpu")
    messages = [str(w.message) for w in caught if "cannot be read" in str(w.message)]
    assert len(messages) == 1 and str(group / "checkpoint.pt") in messages[0] and "afresh" in messages[0]
    aside = list(group.glob("checkpoint.pt.corrupt-*"))
    assert len(aside) == 1 and aside[0].name in messages[0]
    for a, b in zip(finals(clean), finals(outs)):  # trained from scratch: the clean run's weights, bit for bit
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_torch(group / "checkpoint.pt")["state"]["epoch"] == CFG.epochs


# ---------------------------------------------------------------- every run file is checked before it is read

# One group of every kind of run file a target reads: metrics, iterations (Fig 6), snapshots (Table 3), final
# weights (Fig 3), captured gradients (Fig 10); and the reader each file's target uses.
LOGGED = replace(CFG, log_iterations=True, capture_final_grad_epochs=1)
READERS = {
    "done.json": lambda done, out: collect([done]),
    "manifest.json": lambda done, out: collect([done]),
    "config.json": lambda done, out: collect([done]),
    "metrics.csv": lambda done, out: collect([done]),
    "iterations.csv": lambda done, out: iterations(str(out)),
    "snapshots/epoch_0.pt": lambda done, out: RunFolder(out).net("epoch_0"),
    "final.pt": lambda done, out: RunFolder(out).net("final"),
    "final_grad/epoch_1.pt": lambda done, out: RunFolder(out).final_grads(),
}


@pytest.fixture(scope="module")
def logged_group(tmp_path_factory, data_file):
    return train_in_layout(tmp_path_factory.mktemp("logged"), data_file, LOGGED)


def cut_at_a_line_end(blob: bytes) -> bytes:
    return blob[: blob.rstrip(b"\n").rfind(b"\n") + 1]  # the last line gone: the file still parses


def cut_inside_the_last_row(blob: bytes) -> bytes:
    return blob[:-3]  # a number's last digits: 0.9297 read as 0.92


def empty_a_field(blob: bytes) -> bytes:
    head, last = blob.rstrip(b"\n").rsplit(b"\n", 1)
    fields = last.split(b",")
    fields[1] = b""
    return head + b"\n" + b",".join(fields) + b"\n"


def flip(at: float):
    def damage(blob: bytes) -> bytes:
        blob = bytearray(blob)
        blob[min(int(len(blob) * at), len(blob) - 1)] ^= 0x01
        return bytes(blob)

    damage.__name__ = f"flip_a_bit_at_{at:.0%}"
    return damage


def cut_in_half(blob: bytes) -> bytes:
    return blob[: len(blob) // 2]


def nothing(blob: bytes) -> bytes:
    return b""


TEXT_DAMAGES = [cut_at_a_line_end, cut_inside_the_last_row]
CSV_DAMAGES = [empty_a_field]
DAMAGES = [cut_in_half, nothing, flip(0.0), flip(0.5), flip(1.0)]
CASES = [
    (name, damage)
    for name in READERS
    for damage in DAMAGES
    + (TEXT_DAMAGES if name.endswith((".csv", ".json")) else [])
    + (CSV_DAMAGES if name.endswith(".csv") else [])
]


@pytest.mark.parametrize("name,damage", CASES, ids=[f"{n}-{d.__name__}" for n, d in CASES])
def test_a_damaged_run_file_builds_nothing_and_is_named_with_the_command_that_rebuilds_it(
    tmp_path, logged_group, name, damage
):
    group, outs = copy_of_the_group(logged_group, tmp_path)
    done, out = group / "done.json", outs[0]
    path = done if name == "done.json" else out / name
    READERS[name](done, out)  # whole, it reads
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(RunFileError) as error:
        READERS[name](done, out)
    message = str(error.value)
    assert str(path) in message and "make retrain RUN=" in message, message
    problems, _ = verify.damaged(tmp_path / "results" / "runs")  # what `make run` checks before Snakemake starts
    assert len(problems) == 1 and str(path) in problems[0], problems


def test_a_missing_run_file_is_named(tmp_path, logged_group):
    group, outs = copy_of_the_group(logged_group, tmp_path)
    for name in ("snapshots/epoch_0.pt", "manifest.json"):
        (outs[0] / name).unlink()
        with pytest.raises(RunFileError, match=re.escape(str(outs[0] / name))):
            READERS[name](group / "done.json", outs[0])
    problems, _ = verify.damaged(tmp_path / "results" / "runs")
    assert len(problems) == 1 and "manifest.json is missing" in problems[0]


def copy_of_the_group(trained: tuple[Path, list[Path]], root: Path) -> tuple[Path, list[Path]]:
    """The trained group's files under `root` (the folders done.json names, relative to the working directory)."""
    group, outs = trained
    base = group.parents[4]  # <base>/results/runs/table1/_groups/<group>
    shutil.copytree(base / "results", root / "results")
    done = json.loads((root / group.relative_to(base) / "done.json").read_text())
    assert all(entry["dir"].startswith(str(base)) for entry in done["runs"])
    for file in (root / "results").rglob("*.json"):  # the folders as the copy has them, each record resealed
        text = file.read_text()
        if str(base) in text:
            value = json.loads(text.replace(str(base), str(root)))
            sealed = "seal" in value
            value.pop("seal", None)
            write_sealed_json(file, value) if sealed else file.write_text(json.dumps(value))
    return root / group.relative_to(base), [root / o.relative_to(base) for o in outs]


def test_rows_that_do_not_match_the_runs_schedule_are_refused_even_with_a_good_digest(tmp_path, logged_group):
    """What the engine wrote is checked against the run: a metrics row short, an iteration missing."""
    group, outs = copy_of_the_group(logged_group, tmp_path)
    folder = RunFolder(outs[0])
    for name, keep, match in (
        ("metrics.csv", lambda rows: rows[:-1], r"holds rows for epochs \[0, 1\], its last one running; its run"),
        ("iterations.csv", lambda rows: rows[1:], r"holds 5 rows; its run's job took 6 SGD steps"),
    ):
        lines = (outs[0] / name).read_text().splitlines(keepends=True)
        (outs[0] / name).write_text(lines[0] + "".join(keep(lines[1:])))
        manifest = RunFolder(outs[0]).manifest()
        manifest["files"][name] = digest((outs[0] / name).read_bytes())
        write_sealed_json(folder.manifest_path, manifest)
        with pytest.raises(RunFileError, match=match):
            READERS[name](group / "done.json", outs[0])


def test_a_sealed_record_refuses_every_cut_and_every_changed_byte(tmp_path):
    record = {"runs": [{"run_id": "a", "dir": "results/runs/x/a", "status": "finished"}], "seconds": {"train": 1.5}}
    blob = sealed_json(record)
    assert json.loads(blob) == {**record, "seal": json.loads(blob)["seal"]}  # plain JSON still
    assert parse_sealed_json(blob, tmp_path / "done.json") == record
    for n in range(len(blob)):
        with pytest.raises(Unreadable, match="done.json cannot be read"):
            parse_sealed_json(blob[:n], tmp_path / "done.json")
        changed = bytearray(blob)
        changed[n] ^= 0x01
        with pytest.raises(Unreadable, match="done.json cannot be read"):
            parse_sealed_json(bytes(changed), tmp_path / "done.json")


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
    assert failed.returncode != 0 and f"{relative} has " in failed.stderr and "cut short" in failed.stderr
    assert f"make retrain RUN={relative.parent.parent}" in failed.stderr
    refused = make(root, "run", "TARGET=yt_table3", "CONFIG=scale=smoke")  # checked before Snakemake starts
    assert refused.returncode != 0 and "1 run file(s) are damaged; nothing is built from them" in refused.stderr
    assert f"make retrain RUN={relative.parent.parent}" in refused.stderr and "Building DAG" not in refused.stderr
    repaired = make(root, "retrain", f"RUN={relative}", "TARGET=yt_table3", "CONFIG=scale=smoke")
    assert repaired.returncode == 0, repaired.stdout[-2000:] + repaired.stderr[-3000:]
    assert load_torch(snapshot)["epoch"] == 0
    assert (root / "results" / "tables" / "yt_table3.md").stat().st_mtime > snapshot.stat().st_mtime


# ---------------------------------------------------------------- whole or absent: a full disk, a killed write


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs to fill; skipped, with the reason, where none can be mounted (not root, no mount)."""
    where = tmp_path / "disk"
    where.mkdir()
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    options = f"size=16m,uid={os.getuid()},gid={os.getgid()}"
    mounted = subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}): the full-disk tests need one")
    yield where
    subprocess.run([*sudo, "umount", "-l", str(where)], capture_output=True)


def fill(disk: Path, leave: int) -> Path:
    """Take all but `leave` bytes of the disk's free space."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.truncate(0)
        f.write(b"\0" * max(free - leave, 0))
    return filler


def temporaries(root: Path) -> list[Path]:
    return sorted(root.rglob(".*.tmp"))


def test_a_full_disk_while_training_leaves_every_file_whole_and_the_job_resumes(small_disk, data_file):
    runs = small_disk / "results" / "runs" / "table1"
    group, outs = runs / "_groups" / "g", [runs / r.run_id for r in RUNS]
    filler = fill(small_disk, leave=600_000)  # room for the first epoch's files, not for the run's
    with pytest.raises(OSError, match="No space left on device"):
        train_group(RUNS, LOGGED, data_file, outs, group, device="cpu")
    assert not temporaries(small_disk)
    assert not (group / "done.json").exists()
    written = [f for f in small_disk.rglob("*") if f.is_file() and f != filler]
    assert written
    for file in written:  # each whole: a torch file passes its SHA-256, a record parses
        if file.suffix == ".pt":
            load_torch(file)
        elif file.suffix == ".json":
            json.loads(file.read_text())
        elif file.suffix == ".csv":
            assert file.read_text().endswith("\n")
    filler.unlink()
    train_group(RUNS, LOGGED, data_file, outs, group, device="cpu")
    problems, checked = verify.damaged(small_disk / "results" / "runs")
    assert not problems and checked["runs"] == 2


def test_a_full_disk_while_writing_the_report_leaves_the_last_report_whole(small_disk):
    """The report is written under a temporary name: a full disk leaves no half page, and the last one stands."""
    built = run_controller("run", small_disk, "scale=smoke")
    assert built.returncode == 0, built.stderr[-3000:]
    report = small_disk / "results" / "report-yt_fig4.html"
    before = report.read_bytes()
    assert before.rstrip().endswith(b"</html>")
    fill(small_disk, leave=len(before) // 3)
    full = run_controller("report", small_disk, "scale=smoke")
    assert full.returncode != 0 and "No space left on device" in full.stdout + full.stderr
    assert report.read_bytes() == before
    assert not list((small_disk / "results").glob(".*partial*")) and not temporaries(small_disk)


STALLED_WRITE = (
    "import os, sys, time\n"
    "from plainres import files\n"
    "def stalled(fd):\n"  # the bytes are in the temporary file; the kill comes before the rename
    "    print('writing', flush=True); time.sleep(60)\n"
    "files.os.fsync = stalled\n"
)


def killed_while_writing(code: str, cwd: Path) -> None:
    """Run `code` with every atomic write stalled before its rename, and SIGKILL it inside the first one."""
    process = subprocess.Popen([sys.executable, "-c", STALLED_WRITE + code], cwd=cwd, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "writing\n"
    process.kill()
    process.wait()


def test_what_a_killed_training_write_leaves_is_removed_when_the_job_runs_again(tmp_path, data_file):
    _, clean = train_in_layout(tmp_path / "clean", data_file)
    runs = tmp_path / "killed" / "results" / "runs" / "table1"
    group, outs = runs / "_groups" / "g", [runs / r.run_id for r in RUNS]
    train = (
        "from pathlib import Path\nfrom plainres.train import Run, TrainConfig, train_group\n"
        f"train_group({RUNS!r}, {CFG!r}, Path({str(data_file)!r}), {[Path(o) for o in outs]!r}, "
        f"Path({str(group)!r}), device='cpu')\n"
    ).replace("PosixPath", "Path")
    killed_while_writing(train, tmp_path)
    assert len(temporaries(tmp_path / "killed")) == 1  # the job's first write (its job.json), killed
    train_group(RUNS, CFG, data_file, outs, group, device="cpu")
    assert not temporaries(tmp_path / "killed")
    for a, b in zip(finals(clean), finals(outs)):
        assert all(torch.equal(a[k], b[k]) for k in a)


def test_what_a_killed_stage_write_leaves_beside_its_output_is_removed_when_the_stage_runs_again(tmp_path):
    out = tmp_path / "results" / "tables" / "yt_table1.csv"
    killed_while_writing(f"files.atomic_write_bytes({str(out)!r}, b'x' * 1000)", tmp_path)
    (stale,) = temporaries(tmp_path)
    assert stale.parent == out.parent and stale.name.startswith(".yt_table1.csv.")
    other = out.with_name(".yt_table2.csv.abc.tmp")
    other.write_bytes(b"another job's write, under way")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from plainres.files import begin_stage; begin_stage({str(tmp_path / 'log')!r}, [{str(out)!r}])",
        ],
        capture_output=True,
    )
    assert done.returncode == 0 and temporaries(tmp_path) == [other]


def test_each_row_of_the_fault_table_names_a_test_that_exists():
    """docs/pipeline.md, "When something goes wrong": every fault with the test that reproduces it."""
    table = (REPO / "docs" / "pipeline.md").read_text().split("## When something goes wrong")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| fault |")]
    assert len(rows) >= 18
    for row in rows:
        named = re.findall(r"`(tests/test_\w+\.py)::(test_\w+)`", row)
        assert named, row
        for file, test in named:
            assert re.search(rf"^def {test}\(", (REPO / file).read_text(), re.M), (file, test)
