"""Every file the pipeline writes, written atomically (a temporary file in the same folder, then a rename:
a reader never sees half a file, a killed job leaves the old one), and read back with a failure that names it.

A torch file is `torch.save`'s bytes followed by a footer, the SHA-256 of those bytes and a magic word: a
truncated or byte-flipped file is refused, never loaded with wrong values (torch.load alone loads a flipped
byte silently), and torch.load still reads the file as it is (it ignores what follows the archive). Files
written before the footer load unchecked.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import torch

MAGIC = b"\nplainres-sha256\n"  # the footer: SHA-256 (32 bytes) of the torch bytes, then this


class Unreadable(RuntimeError):
    """A file that cannot be read; the message names it (and, from a run folder, how to rebuild it)."""


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via a temporary file in the same folder and rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, value) -> None:
    atomic_write_bytes(path, (json.dumps(value, indent=2, default=list) + "\n").encode())


def write_csv(path: Path, rows: list[dict], columns) -> None:
    """Rows of dicts as CSV with these columns, '\\n' line ends."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, text.getvalue().encode())


def save_torch(obj, path: Path) -> None:
    """torch.save `obj` to `path` atomically, with the SHA-256 footer."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    blob = buffer.getvalue()
    atomic_write_bytes(path, blob + hashlib.sha256(blob).digest() + MAGIC)


def unreadable(path: Path, error: BaseException) -> Unreadable:
    reason = str(error).splitlines()[0][:200] if str(error) else ""
    return Unreadable(f"{path} cannot be read ({type(error).__name__}{': ' + reason if reason else ''})")


def verified(blob: bytes, path: Path) -> bytes:
    """The torch bytes of a file with the footer, checked against its SHA-256 (a file without one as it is)."""
    if not blob.endswith(MAGIC):
        return blob
    body, digest = blob[: -len(MAGIC) - 32], blob[-len(MAGIC) - 32 : -len(MAGIC)]
    if hashlib.sha256(body).digest() != digest:
        raise ValueError(f"SHA-256 mismatch: {Path(path).name} was changed or cut short after it was written")
    return body


def load_torch(path: Path, map_location="cpu"):
    """A torch file written by save_torch (or torch.save), or Unreadable naming it."""
    path = Path(path)
    try:
        return torch.load(io.BytesIO(verified(path.read_bytes(), path)), map_location=map_location, weights_only=False)
    except Exception as error:  # noqa: BLE001 (torch raises many kinds for a damaged archive)
        raise unreadable(path, error) from error


def read_json(path: Path) -> dict:
    """A JSON record, or Unreadable naming it."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise unreadable(path, error) from error


def read_csv(path: Path, columns: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a CSV, or Unreadable naming it; `columns` must be there."""
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
