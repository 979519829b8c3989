"""What every output records about how it was made: code version, library versions, time."""

from __future__ import annotations

import datetime
import platform
import subprocess
from pathlib import Path

import torch

from . import __version__


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
