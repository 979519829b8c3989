"""A run's files read and written safely: every torch file carries its SHA-256, and every failure to read one
names the file and the command that rebuilds it.

A torch file (checkpoint, snapshot, final weights, captured gradients) is `torch.save`'s bytes followed by a
footer, the SHA-256 of those bytes and a magic word: a truncated or byte-flipped file is refused, never loaded
with wrong values (torch.load alone loads a flipped byte silently), and torch.load still reads the file as it
is (it ignores what follows the archive). Files written before the footer load unchecked.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import torch

from .data import atomic_write_bytes

MAGIC = b"\nplainres-sha256\n"  # the footer: SHA-256 (32 bytes) of the torch bytes, then this
GROUPS = "_groups"  # results/runs/<experiment>/_groups/<group>/: a training job's checkpoint and records


class RunFileError(RuntimeError):
    """A run file that cannot be read: the message names it and says how to rebuild it."""


def rebuild_command(path: Path) -> str:
    """The command that retrains the run or group `path` belongs to (plainres.retrain)."""
    parts = Path(path).parts
    folder = Path(path)
    if GROUPS in parts:  # …/<experiment>/_groups/<group>/…
        folder = Path(*parts[:parts.index(GROUPS) + 2])
    elif "runs" in parts and len(parts) > parts.index("runs") + 2:  # results/runs/<experiment>/<run>/…
        folder = Path(*parts[:parts.index("runs") + 3])
    return f'make retrain RUN={folder} CONFIG="<the config it was built with>"'


def unreadable(path: Path, error: BaseException) -> RunFileError:
    reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
    return RunFileError(f"{path} cannot be read ({type(error).__name__}: {reason}); "
                        f"rebuild its run from scratch: {rebuild_command(path)}")


def save_torch(obj, path: Path) -> None:
    """torch.save `obj` to `path` atomically, with the SHA-256 footer."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    blob = buffer.getvalue()
    atomic_write_bytes(Path(path), blob + hashlib.sha256(blob).digest() + MAGIC)


def verified(blob: bytes, path: Path) -> bytes:
    """The torch bytes of a file with the footer, checked against its SHA-256 (a file without one as it is)."""
    if not blob.endswith(MAGIC):
        return blob
    body, digest = blob[:-len(MAGIC) - 32], blob[-len(MAGIC) - 32:-len(MAGIC)]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError(f"SHA-256 mismatch: {path.name} was changed or cut short after it was written")
    return body


def load_torch(path: Path, map_location="cpu"):
    """A torch file written by save_torch (or torch.save), or RunFileError naming it."""
    path = Path(path)
    try:
        return torch.load(io.BytesIO(verified(path.read_bytes(), path)), map_location=map_location,
                          weights_only=False)
    except Exception as error:  # noqa: BLE001 (torch raises many kinds for a damaged archive)
        raise unreadable(path, error) from error


def read_json(path: Path) -> dict:
    """A run's JSON record (config.json, done.json, job.json), or RunFileError naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise unreadable(path, error) from error


def read_csv(path: Path, columns: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a run's CSV (metrics.csv, iterations.csv), or RunFileError naming it; `columns` must be there."""
    path = Path(path)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        return rows
    except (OSError, ValueError, csv.Error) as error:
        raise unreadable(path, error) from error
