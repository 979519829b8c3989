"""Where a run's files live, and the only way in and out of them.

    results/runs/<experiment>/<run-id>/         a RunFolder: config.json, metrics.csv, iterations.csv (YT Fig 6),
                                                snapshots/<tag>.pt, final.pt, final_grad/epoch_<e>.pt (YT Fig 10),
                                                and manifest.json: every other file's SHA-256 and size (sealed)
    results/runs/<experiment>/_groups/<group>/  a GroupFolder, one training job: checkpoint.pt, job.json (the run
                                                folders it trains), done.json (what became of each run, sealed),
                                                imported.json where its runs came from a results bundle (sealed)

The engine writes through these classes, which record each file's digest as it is written (the record travels
in the checkpoint, so a resumed job keeps it); at the end of the job each run's manifest.json lists them. Every
stage reads through them: a file is checked against its run's manifest, every byte, and metrics.csv and
iterations.csv against the run's epochs and evaluation schedule, before anything is built from it. A file that
fails raises RunFileError, which names it, says what is wrong and gives the command that rebuilds its run
(plainres.retrain).
"""

from __future__ import annotations

import shlex
import shutil
import time
from pathlib import Path

import torch

from .files import (
    Unreadable,
    atomic_write_bytes,
    digest,
    parse_csv,
    parse_json,
    parse_torch,
    read_bytes,
    read_json,
    read_sealed_json,
    save_torch,
    verified,
    write_csv,
    write_json,
    write_sealed_json,
)
from .models import build_model
from .runs import Run, TrainConfig

RUNS_DIR = "results/runs"
GROUPS = "_groups"

METRICS = (
    "epoch",
    "iteration",
    "lr",
    "train_loss",
    "weight_reg",
    "cost",
    "test_error",
    "test_loss",
    "minibatch_loss",
    "wall_s",
    "status",
)
ITERATIONS = ("iteration", "epoch", "lr", "minibatch_loss")


class RunFileError(Unreadable):
    """A run's file that cannot be read: the message names it and says how to rebuild the run."""


def rebuild_command(folder: Path) -> str:
    """The command that trains the run or group in `folder` again from scratch (plainres.retrain)."""
    return f'make retrain RUN={shlex.quote(str(folder))} CONFIG="<the config it was built with>"'


def run_folder(experiment: str, run_id: str) -> str:
    return f"{RUNS_DIR}/{experiment}/{run_id}"


def group_folder(experiment: str, group_id: str) -> str:
    return f"{RUNS_DIR}/{experiment}/{GROUPS}/{group_id}"


class _Folder:
    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def read(self, reader, *args):
        """reader(*args), its failure named with the command that rebuilds this folder's run."""
        try:
            return reader(*args)
        except Unreadable as error:
            if isinstance(error, RunFileError):
                raise
            raise RunFileError(f"{error}; rebuild its run from scratch: {rebuild_command(self.path)}") from error


class RunFolder(_Folder):
    """One run's files."""

    def __init__(self, path):
        super().__init__(path)
        self.written: dict[str, dict] = {}  # the engine's record: each file it wrote here → its digest
        self._manifest: dict | None = None

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def iterations_path(self) -> Path:
        return self.path / "iterations.csv"

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def snapshot_path(self, snapshot: str) -> Path:
        """'final' (final.pt) or a snapshot's tag: 'epoch_0', 'iter_1', … (snapshots/<tag>.pt)."""
        return self.path / ("final.pt" if snapshot == "final" else f"snapshots/{snapshot}.pt")

    def final_grad_path(self, epoch: int) -> Path:
        return self.path / "final_grad" / f"epoch_{epoch}.pt"

    # ------------------------------------------------ the engine writes
    def _note(self, path: Path, written: dict) -> None:
        self.written[path.relative_to(self.path).as_posix()] = written

    def clear(self) -> None:
        """Remove what an earlier job left here: a job that starts afresh owns none of it."""
        for path in (self.config_path, self.metrics_path, self.iterations_path, self.manifest_path):
            path.unlink(missing_ok=True)
        self.snapshot_path("final").unlink(missing_ok=True)
        for folder in ("snapshots", "final_grad"):
            shutil.rmtree(self.path / folder, ignore_errors=True)
        self.written = {}

    def write_config(self, record: dict) -> None:
        """config.json: the run, its seed group, train config, data, device, versions."""
        self._note(self.config_path, write_json(self.config_path, record))

    def write_metrics(self, rows: list[dict]) -> None:
        self._note(self.metrics_path, write_csv(self.metrics_path, rows, METRICS))

    def write_iterations(self, rows: list[dict]) -> None:
        self._note(self.iterations_path, write_csv(self.iterations_path, rows, ITERATIONS))

    def save_snapshot(self, snapshot: str, content: dict) -> None:
        self._note(self.snapshot_path(snapshot), save_torch(content, self.snapshot_path(snapshot)))

    def save_final_grad(self, epoch: int, content: dict) -> None:
        self._note(self.final_grad_path(epoch), save_torch(content, self.final_grad_path(epoch)))

    def adopt_torch_files(self) -> None:
        """Record the torch files an earlier plainres wrote here before it kept a record: each vouches for
        itself through its SHA-256 footer (files.verified)."""
        for path in sorted(self.path.glob("snapshots/*.pt")) + sorted(self.path.glob("final_grad/*.pt")):
            blob = path.read_bytes()
            try:
                verified(blob, path)
            except ValueError:  # left out of the manifest: a reader names it, with the command that rebuilds it
                continue
            self._note(path, digest(blob))

    def seal(self, run_id: str, status: str, epochs_trained: int) -> None:
        """manifest.json: the digest of every file this job wrote here, each checked against the file on disk."""
        for name, written in sorted(self.written.items()):
            path = self.path / name
            if not path.is_file() or digest(path.read_bytes()) != written:
                raise RunFileError(f"{path} was changed or removed after this job wrote it; train its group again")
        write_sealed_json(
            self.manifest_path,
            {
                "run_id": run_id,
                "status": status,
                "epochs_trained": epochs_trained,
                "files": dict(sorted(self.written.items())),
            },
        )

    # ------------------------------------------------ the stages read, each file checked first
    def manifest(self) -> dict:
        """manifest.json, its seal checked: the run's status, the epochs its job trained and its files' digests."""
        if self._manifest is None:
            if not self.manifest_path.exists():
                raise RunFileError(
                    f"{self.manifest_path} is missing: the run's training job did not finish, or a plainres older "
                    f"than the manifests wrote it; rebuild its run from scratch: {rebuild_command(self.path)}"
                )
            self._manifest = self.read(read_sealed_json, self.manifest_path)
        return self._manifest

    def checked_bytes(self, path: Path) -> bytes:
        """The file's bytes, checked against the digest the run's manifest records for it."""
        name = path.relative_to(self.path).as_posix()
        recorded = self.manifest()["files"].get(name)
        if recorded is None:
            raise Unreadable(f"{path} is not in its run's manifest.json: the run's job did not write it")
        blob = read_bytes(path)
        if len(blob) != recorded["size"]:
            raise Unreadable(
                f"{path} has {len(blob)} bytes where its run's manifest.json records {recorded['size']} (cut short "
                f"or added to after it was written)"
            )
        if digest(blob) != recorded:
            raise Unreadable(
                f"{path} does not match the SHA-256 its run's manifest.json records (a byte changed after it was "
                f"written)"
            )
        return blob

    def _parse(self, parse, path: Path, *args):
        return parse(self.checked_bytes(path), path, *args)

    def config(self) -> dict:
        return self.read(self._parse, parse_json, self.config_path)

    def run_config(self) -> tuple[Run, TrainConfig]:
        """The run's identity and train config, from its config.json."""
        config = self.config()
        return Run(**config["run"]), TrainConfig.from_dict(config["train"])

    def metrics(self) -> list[dict]:
        """Every row of metrics.csv (an evaluated epoch, or the row that marks the run diverged), checked against
        the epochs the run was evaluated after."""
        rows = self.read(self._parse, parse_csv, self.metrics_path, ("epoch", "train_loss", "status"))
        self.read(self._check_metrics, rows)
        return rows

    def _check_metrics(self, rows: list[dict]) -> None:
        cfg, status = self.run_config()[1], self.manifest()["status"]
        last = rows[-1] if rows else {"status": None}
        diverged = last["status"] == "diverged"
        end = int(last["epoch"]) if diverged else cfg.epochs + 1  # a run is evaluated before it diverges
        expected = [e for e in cfg.evaluated_epochs() if e < end]
        evaluated = [int(r["epoch"]) for r in rows if r["status"] != "diverged"]
        if evaluated != expected or status != ("diverged" if diverged else last["status"]):
            raise Unreadable(
                f"{self.metrics_path} holds rows for epochs {evaluated}{' and its divergence' if diverged else ''}, "
                f"its last one {last['status']}; its run ({status}, {cfg.epochs} epochs, evaluated every "
                f"{cfg.eval_every}) was evaluated after epochs {expected}"
            )

    def iterations(self) -> list[dict]:
        """Every SGD step's minibatch loss, checked against the steps the run's job took."""
        rows = self.read(self._parse, parse_csv, self.iterations_path, ITERATIONS)
        self.read(self._check_iterations, rows)
        return rows

    def _check_iterations(self, rows: list[dict]) -> None:
        config, epochs = self.config(), self.manifest()["epochs_trained"]
        steps = epochs * TrainConfig.from_dict(config["train"]).batches(config["data_used"]["train"])
        if [int(r["iteration"]) for r in rows] != list(range(1, steps + 1)):
            raise Unreadable(
                f"{self.iterations_path} holds {len(rows)} rows; its run's job took {steps} SGD steps, one row each"
            )

    def state(self, snapshot: str) -> dict[str, torch.Tensor]:
        """The state dict of `snapshot` ('final', 'epoch_0', 'iter_1', …)."""
        return self.read(self._parse, parse_torch, self.snapshot_path(snapshot))["state_dict"]

    def net(self, snapshot: str) -> torch.nn.Module:
        """`snapshot` as the float64 net the run trained."""
        return net_of(self.config()["run"], self.state(snapshot))

    def final_grads(self) -> list[dict]:
        """Every epoch's captured ∂L/∂a⁽ᴸ⁾ (YT Fig 10), in epoch order: those the manifest lists."""
        names = [n for n in self.manifest()["files"] if n.startswith("final_grad/")]
        files = sorted((self.path / n for n in names), key=lambda p: int(p.stem.split("_")[1]))
        return [self.read(self._parse, parse_torch, f) for f in files]

    def verify(self) -> None:
        """Check every file the manifest lists, byte for byte, and the metrics and iterations against the run."""
        for name in self.manifest()["files"]:
            if name == "metrics.csv":
                self.metrics()
            elif name == "iterations.csv":
                self.iterations()
            else:
                self.read(self.checked_bytes, self.path / name)


class GroupFolder(_Folder):
    """One training job's files: its checkpoint and its records."""

    @classmethod
    def of(cls, done: Path) -> GroupFolder:
        """The group whose done.json is `done` (what a target's rule is given)."""
        done = Path(done)
        if done.name != "done.json":
            raise ValueError(f"{done} is not a group's done.json")
        return cls(done.parent)

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    @property
    def job_path(self) -> Path:
        return self.path / "job.json"

    @property
    def done_path(self) -> Path:
        return self.path / "done.json"

    @property
    def imported_path(self) -> Path:
        return self.path / "imported.json"

    def write_imported(self, record: dict) -> None:
        """imported.json (sealed): the results bundle this group's runs came from (plainres.bundle)."""
        write_sealed_json(self.imported_path, record)

    def imported(self) -> dict | None:
        """The bundle this group's runs came from; None where they were trained here."""
        return self.read(read_sealed_json, self.imported_path) if self.imported_path.exists() else None

    def keep_imported(self, job: dict, data_sha256: str) -> bool:
        """Whether this job's runs came from a results bundle as the same job, on the same data file, and every
        file of theirs still checks: then its done.json is the bundle's again, byte for byte, and nothing trains.
        (What the train rule finds where a bundle's runs are no longer a runs_source's: they are kept.)"""
        try:
            record = self.imported()
            if record is None or record["job"] != job or record["data_file_sha256"] != data_sha256:
                return False
            for out_dir in job["out_dirs"]:
                RunFolder(out_dir).verify()
        except Unreadable:
            return False
        atomic_write_bytes(self.done_path, record["done"].encode())
        return True

    def forget_training(self) -> None:
        """Remove what training here left (the checkpoint, job.json), before runs from a bundle replace it."""
        for path in (self.checkpoint, self.job_path):
            path.unlink(missing_ok=True)

    def set_aside_checkpoint(self) -> Path:
        """Rename an unreadable checkpoint to checkpoint.pt.corrupt-<time>, kept for inspection; its new path."""
        aside = self.checkpoint.with_name(f"{self.checkpoint.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        self.checkpoint.rename(aside)
        return aside

    def set_aside_checkpoints(self) -> list[Path]:
        return sorted(self.path.glob(f"{self.checkpoint.name}.corrupt-*"))

    def write_job(self, runs: list[Run], out_dirs: list[Path]) -> None:
        """job.json: which run folders this job trains (what plainres.retrain reads); its runs are this machine's
        now, no bundle's."""
        self.imported_path.unlink(missing_ok=True)
        write_json(self.job_path, {"runs": [r.run_id for r in runs], "out_dirs": [str(o) for o in out_dirs]})

    def write_done(self, runs: list[dict], seconds: dict) -> None:
        """done.json (sealed): each run's id, folder and status, and where the job's time went."""
        write_sealed_json(self.done_path, {"runs": runs, "seconds": seconds})

    def done(self) -> list[dict]:
        """done.json's runs: run_id, dir, status."""
        return self.read(read_sealed_json, self.done_path)["runs"]

    def members(self) -> list[str]:
        """The run folders job.json (or else done.json) lists; [] when neither can be read."""
        for record in (self.job_path, self.done_path):
            try:
                found = read_json(record)
            except Unreadable:
                continue
            return found.get("out_dirs") or [r["dir"] for r in found.get("runs", [])]
        return []


def net_of(run: dict, state_dict: dict) -> torch.nn.Module:
    """The run's net in float64, holding `state_dict` (its classes from the classifier's rows)."""
    net = build_model(run["arch"], run["net"], run["depth"], num_classes=state_dict["fc.weight"].shape[0]).double()
    net.load_state_dict(state_dict)
    return net
