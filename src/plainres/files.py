"""Every file the pipeline writes, written atomically (a temporary file in the same folder, then a rename:
a reader never sees half a file, a killed job leaves the old one), and read back with a failure that names it.

Files that vouch for themselves, every byte checked when read:
- a torch file is `torch.save`'s bytes followed by a footer, the SHA-256 of those bytes and a magic word: a
  truncated or byte-flipped file is refused, never loaded with wrong values (torch.load alone loads a flipped
  byte silently), and torch.load still reads the file as it is (it ignores what follows the archive). Files
  written before the footer load unchecked;
- a sealed JSON record (a run's manifest.json, a group's done.json, the dataset's provenance) ends with the key
  "seal": the SHA-256 of every byte before that line. It stays plain JSON, and a cut or a changed byte anywhere
  is refused.
Any other file is checked against the digest (`digest`: SHA-256 and size) a sealed record lists for it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import torch

MAGIC = b"\nplainres-sha256\n"  # the footer: SHA-256 (32 bytes) of the torch bytes, then this
SEALED = re.compile(rb'(.*),\n  "seal": "sha256:([0-9a-f]{64})"\n}\n', re.DOTALL)  # a sealed JSON record's end
TEMPORARY = ".{name}.*.tmp"  # what atomic_write_bytes writes first, beside `name`; left behind only by a kill


class Unreadable(RuntimeError):
    """A file that cannot be read; the message names it (and, from a run folder, how to rebuild it)."""


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def digest(data: bytes) -> dict:
    """What a manifest records of a file: its SHA-256 and size."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def atomic_write_bytes(path: Path, data: bytes) -> dict:
    """Write via a temporary file in the same folder and rename: readers never see half a file, and a full disk
    leaves the file as it was. Returns the bytes' digest."""
    with atomic_stream(path) as f:
        f.write(data)
    return digest(data)


@contextmanager
def atomic_stream(path: Path):
    """A binary file to write `path` through, renamed into place when the block ends without an error (else
    removed): what atomic_write_bytes writes through, and a file written piece by piece."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = TEMPORARY.format(name=path.name).split("*")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FetchError(RuntimeError):
    """A download that failed: no answer in time, a refusal, or fewer bytes than the server announced."""


def fetch_url(url: str, dest: Path, timeout: float) -> Path:
    """Download `url` to `dest` atomically (a killed or failed download leaves no file), with progress on stderr;
    `timeout`: the seconds to wait for the server to answer, and for each read."""
    remove_temporaries(dest)  # what a killed download left
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_stream(dest) as out:
            total = int(response.headers.get("Content-Length") or 0)
            done, shown, start = 0, -1, time.monotonic()
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                done += len(chunk)
                pct = 100 * done // total if total else -1
                if total and pct // 10 != shown:
                    shown = pct // 10
                    rate = done / max(time.monotonic() - start, 1e-9) / 1e6
                    print(
                        f"download {dest.name}: {pct:3d}% of {total / 1e6:.0f} MB ({rate:.1f} MB/s)",
                        file=sys.stderr,
                        flush=True,
                    )
            if total and done != total:
                raise FetchError(f"{url}: download truncated ({done} of {total} bytes)")
    except TimeoutError as e:
        raise FetchError(f"{url}: no answer within {timeout:g} s") from e
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        if isinstance(reason, TimeoutError):
            raise FetchError(f"{url}: no answer within {timeout:g} s") from e
        raise FetchError(f"cannot download {url}: {reason}") from e
    return dest


def remove_temporaries(path: Path) -> list[Path]:
    """Remove what killed atomic writes left: of the file `path`, beside it; of a folder, anywhere under it. The
    paths removed."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.rglob(TEMPORARY.format(name="*")))
    else:
        found = sorted(path.parent.glob(TEMPORARY.format(name=glob_escape(path.name))))
    for tmp in found:
        tmp.unlink(missing_ok=True)
    return found


def begin_stage(log: str, outputs) -> None:
    """What a workflow job does first: its stderr (fd 2: Python's, C code's, child processes') to its log, and
    what killed writes of its outputs left beside them removed."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    os.dup2(fd, 2)
    os.close(fd)
    for output in outputs:
        remove_temporaries(output)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def write_json(path: Path, value) -> dict:
    return atomic_write_bytes(path, (json.dumps(value, indent=2, default=list) + "\n").encode())


def sealed_json(value: dict) -> bytes:
    """`value` (a non-empty dict) as indented JSON whose last key, "seal", is the SHA-256 of the bytes before it."""
    text = json.dumps(value, indent=2, default=list)
    if not value or "seal" in value:
        raise ValueError("a sealed record is a non-empty dict without a key 'seal'")
    head = text.removesuffix("\n}").encode()
    return head + f',\n  "seal": "sha256:{hashlib.sha256(head).hexdigest()}"\n}}\n'.encode()


def write_sealed_json(path: Path, value: dict) -> dict:
    return atomic_write_bytes(path, sealed_json(value))


def write_csv(path: Path, rows: list[dict], columns) -> dict:
    """Rows of dicts as CSV with these columns, '\\n' line ends."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_bytes(path, text.getvalue().encode())


def save_torch(obj, path: Path) -> dict:
    """torch.save `obj` to `path` atomically, with the SHA-256 footer."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    blob = buffer.getvalue()
    return atomic_write_bytes(path, blob + hashlib.sha256(blob).digest() + MAGIC)


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


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or Unreadable naming it."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise unreadable(path, error) from error


def parse_torch(blob: bytes, path: Path, map_location="cpu"):
    """The object in a torch file's bytes (checked against their footer), or Unreadable naming the file."""
    try:
        return torch.load(io.BytesIO(verified(blob, path)), map_location=map_location, weights_only=False)
    except Exception as error:  # noqa: BLE001 (torch raises many kinds for a damaged archive)
        raise unreadable(path, error) from error


def parse_json(blob: bytes, path: Path) -> dict:
    try:
        return json.loads(blob)
    except ValueError as error:
        raise unreadable(path, error) from error


def parse_sealed_json(blob: bytes, path: Path) -> dict:
    """A sealed record's value, every byte checked against its seal, or Unreadable naming the file."""
    try:
        sealed = SEALED.fullmatch(blob)
        if not sealed:
            raise ValueError("no seal at its end: cut short, or not a sealed record")
        if hashlib.sha256(sealed[1]).hexdigest() != sealed[2].decode():
            raise ValueError(f"SHA-256 mismatch: {Path(path).name} was changed after it was written")
        value = json.loads(blob)
    except ValueError as error:
        raise unreadable(path, error) from error
    del value["seal"]
    return value


def parse_csv(blob: bytes, path: Path, columns: tuple[str, ...] = ()) -> list[dict]:
    """The rows of a CSV's bytes, or Unreadable naming the file; `columns` must be there."""
    try:
        reader = csv.DictReader(io.StringIO(blob.decode(), newline=""))
        rows = list(reader)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"no column {', '.join(missing)}")
        return rows
    except (ValueError, csv.Error) as error:
        raise unreadable(path, error) from error


def load_torch(path: Path, map_location="cpu"):
    """A torch file written by save_torch (or torch.save), or Unreadable naming it."""
    return parse_torch(read_bytes(path), path, map_location)


def read_json(path: Path) -> dict:
    """A JSON record, or Unreadable naming it."""
    return parse_json(read_bytes(path), path)


def read_sealed_json(path: Path) -> dict:
    """A sealed JSON record, or Unreadable naming it."""
    return parse_sealed_json(read_bytes(path), path)
