"""What every output records about how it was made: the config's hash, the code and library versions, the device,
the data source, the time; and the notes (caption, provenance) a table's or figure's files begin with."""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from . import __version__

if TYPE_CHECKING:
    import pandas as pd


def code_version() -> str:
    """`git describe` of the checkout this package runs from (with '-dirty'), else the package version."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=12"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return __version__
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else __version__


def environment() -> dict:
    return {
        "plainres_version": __version__,
        "code_version": code_version(),
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def config_sha256(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def of_simulation(config: dict, device: str = "cpu") -> dict:
    """What a result computed here, from no runs, records: its config's hash and this code and torch."""
    env = environment()
    return {
        "scale": config["scale"],
        "config_sha256": config_sha256(config),
        "code_version": env["code_version"],
        "torch": env["torch_version"],
        "device": device,
        "data_source": "none (simulation)",
    }


def of_runs(runs: pd.DataFrame, config: dict, runs_from: str) -> dict:
    """What a result built from runs records: its config's hash, the code, torch, device and data that trained
    the runs, and where they were trained (collect.origins: here, or a results bundle)."""
    return {
        "scale": config["scale"],
        "config_sha256": config_sha256(config),
        "code_version": ", ".join(sorted(runs.code.unique())),
        "torch": ", ".join(sorted(runs.torch.unique())),
        "device": ", ".join(sorted(runs.device.unique())),
        "data_source": ", ".join(sorted(runs.data_source.unique())),
        "runs_from": runs_from,
    }


def notes_of(caption: str, prov: dict) -> list[str]:
    return [caption] + [f"{k}: {v}" for k, v in prov.items()]
