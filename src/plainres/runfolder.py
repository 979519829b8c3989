"""Where a run's files live, and the only way in and out of them.

    results/runs/<experiment>/<run-id>/         a RunFolder: config.json, metrics.csv, iterations.csv (YT Fig 6),
                                                snapshots/<tag>.pt, final.pt, final_grad/epoch_<e>.pt (YT Fig 10)
    results/runs/<experiment>/_groups/<group>/  a GroupFolder, one training job: checkpoint.pt, job.json (the run
                                                folders it trains), done.json (what became of each run)

The engine writes through these classes and every stage reads through them; a file that cannot be read raises
RunFileError, which names it and the command that rebuilds its run (plainres.retrain).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from .files import Unreadable, load_torch, read_csv, read_json, save_torch, write_csv, write_json
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
    return f'make retrain RUN={folder} CONFIG="<the config it was built with>"'


def run_folder(experiment: str, run_id: str) -> str:
    return f"{RUNS_DIR}/{experiment}/{run_id}"


def group_folder(experiment: str, group_id: str) -> str:
    return f"{RUNS_DIR}/{experiment}/{GROUPS}/{group_id}"


class _Folder:
    def __init__(self, path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def read(self, reader, path: Path, *args):
        """reader(path, *args), its failure named with the command that rebuilds this folder's run."""
        try:
            return reader(path, *args)
        except Unreadable as error:
            raise RunFileError(f"{error}; rebuild its run from scratch: {rebuild_command(self.path)}") from error


class RunFolder(_Folder):
    """One run's files."""

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.csv"

    @property
    def iterations_path(self) -> Path:
        return self.path / "iterations.csv"

    def snapshot_path(self, snapshot: str) -> Path:
        """'final' (final.pt) or a snapshot's tag: 'epoch_0', 'iter_1', … (snapshots/<tag>.pt)."""
        return self.path / ("final.pt" if snapshot == "final" else f"snapshots/{snapshot}.pt")

    def final_grad_path(self, epoch: int) -> Path:
        return self.path / "final_grad" / f"epoch_{epoch}.pt"

    # ------------------------------------------------ the engine writes
    def write_config(self, record: dict) -> None:
        """config.json: the run, its seed group, train config, data, device, versions."""
        write_json(self.config_path, record)

    def write_metrics(self, rows: list[dict]) -> None:
        write_csv(self.metrics_path, rows, METRICS)

    def write_iterations(self, rows: list[dict]) -> None:
        write_csv(self.iterations_path, rows, ITERATIONS)

    def save_snapshot(self, snapshot: str, content: dict) -> None:
        save_torch(content, self.snapshot_path(snapshot))

    def save_final_grad(self, epoch: int, content: dict) -> None:
        save_torch(content, self.final_grad_path(epoch))

    # ------------------------------------------------ the stages read
    def config(self) -> dict:
        return self.read(read_json, self.config_path)

    def record(self) -> tuple[Run, TrainConfig]:
        """The run's identity and train config, from its config.json."""
        config = self.config()
        return Run(**config["run"]), TrainConfig.from_dict(config["train"])

    def metrics(self) -> list[dict]:
        """Every row of metrics.csv (an evaluated epoch, or the row that marks the run diverged)."""
        return self.read(read_csv, self.metrics_path, ("epoch", "train_loss", "status"))

    def iterations(self) -> list[dict]:
        return self.read(read_csv, self.iterations_path, ITERATIONS)

    def state(self, snapshot: str) -> dict[str, torch.Tensor]:
        """The state dict of `snapshot` ('final', 'epoch_0', 'iter_1', …)."""
        return self.read(load_torch, self.snapshot_path(snapshot))["state_dict"]

    def net(self, snapshot: str) -> torch.nn.Module:
        """`snapshot` as the float64 net the run trained."""
        return net_of(self.config()["run"], self.state(snapshot))

    def final_grads(self) -> list[dict]:
        """Every epoch's captured ∂L/∂a⁽ᴸ⁾ (YT Fig 10), in epoch order."""
        files = sorted(self.path.glob("final_grad/epoch_*.pt"), key=lambda p: int(p.stem.split("_")[1]))
        return [self.read(load_torch, f) for f in files]


class GroupFolder(_Folder):
    """One training job's files: its checkpoint and its records."""

    @property
    def checkpoint(self) -> Path:
        return self.path / "checkpoint.pt"

    @property
    def job_path(self) -> Path:
        return self.path / "job.json"

    @property
    def done_path(self) -> Path:
        return self.path / "done.json"

    def set_aside_checkpoint(self) -> Path:
        """Rename an unreadable checkpoint to checkpoint.pt.corrupt-<time>, kept for inspection; its new path."""
        aside = self.checkpoint.with_name(f"{self.checkpoint.name}.corrupt-{time.strftime('%Y%m%dT%H%M%S')}")
        self.checkpoint.rename(aside)
        return aside

    def set_aside_checkpoints(self) -> list[Path]:
        return sorted(self.path.glob(f"{self.checkpoint.name}.corrupt-*"))

    def write_job(self, runs: list[Run], out_dirs: list[Path]) -> None:
        """job.json: which run folders this job trains (what plainres.retrain reads)."""
        write_json(self.job_path, {"runs": [r.run_id for r in runs], "out_dirs": [str(o) for o in out_dirs]})

    def write_done(self, runs: list[dict], seconds: dict) -> None:
        """done.json: each run's id, folder and status, and where the job's time went."""
        write_json(self.done_path, {"runs": runs, "seconds": seconds})

    def done(self) -> list[dict]:
        """done.json's runs: run_id, dir, status."""
        return self.read(read_json, self.done_path)["runs"]

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
