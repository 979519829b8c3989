"""Two locks of a project directory: plainres's own controller lock, and the one a killed Snakemake leaves.

The controller lock (.snakemake/plainres-controller.lock) is an exclusive flock that `make run`, `make report`
and `make retrain` take before anything else (plainres.controller), held by the controller and the Snakemake it
starts: a second one, even started in the same instant, is refused at once and told which one runs. The kernel
drops it when they end, however they end.

The Snakemake lock a killed controller leaves behind is removed only when no process here holds it:

    python -m plainres.lock          # what the controller does before Snakemake starts

Snakemake locks its working directory (.snakemake/locks/) while a controller runs, and refuses to start
another there ("LockException … can be removed with the --unlock argument"). A controller killed with
SIGKILL, or by a power loss, leaves its lock behind. This looks for a live Snakemake on this machine in that
directory, a controller or one of its jobs (any process whose working directory it is and whose command line
names snakemake): with none, the lock is stale and is removed, as `snakemake --unlock` removes it; with one,
it is left alone and the process is named. A controller on another machine sharing the folder cannot be seen
from here: on a cluster's shared file system, unlock by hand once you know none runs (`snakemake --unlock`).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import sys
from dataclasses import dataclass
from pathlib import Path

CONTROLLER = ".snakemake/plainres-controller.lock"


class Busy(RuntimeError):
    """Another controller holds this directory's lock; the message names it."""


@dataclass
class Held:
    fd: int  # the lock's file descriptor: a process given it (pass_fds) holds the lock too


@contextlib.contextmanager
def held(directory: Path, what: str):
    """This directory's controller lock, or Busy naming the controller that holds it; `what` is recorded in the
    lock file for the next one to read."""
    path = Path(directory) / CONTROLLER
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another controller"
            raise Busy(
                f"{holder} is running in this directory ({path}); wait for it, or stop it, then run this again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {what}\n".encode(), 0)
        yield Held(fd)
    finally:
        os.close(fd)


def live_snakemake(directory: Path) -> list[tuple[int, str]] | None:
    """(pid, command line) of every other process on this machine running Snakemake or a job of it in
    `directory`; None where processes cannot be listed (no /proc)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    here, mine = directory.resolve(), own_lineage()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone meanwhile, or another user's
            continue
        if "snakemake" in command and cwd == here:
            found.append((int(entry.name), command))
    return found


def own_lineage() -> set[int]:
    """This process and its ancestors (make, the shell): never counted as a live controller."""
    pids, pid = set(), os.getpid()
    while pid > 1 and pid not in pids:
        pids.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return pids


def recover(directory: Path) -> int:
    """Remove a stale lock in `directory`; 0 when none is left, 1 when a live Snakemake holds it (named)."""
    locks = sorted((directory / ".snakemake" / "locks").glob("*"))
    if not locks:
        return 0
    live = live_snakemake(directory)
    if live is None:
        print(
            f"{directory / '.snakemake/locks'} holds a lock and this system lists no processes to check "
            f"for a live Snakemake; if none runs, remove it: snakemake --unlock",
            file=sys.stderr,
        )
        return 1
    if live:
        print(
            "Snakemake is running in this directory; its lock stays:\n"
            + "\n".join(f"  pid {pid}: {command[:160]}" for pid, command in live)
            + "\nwait for it, or stop it (kill PID) and run the same command again",
            file=sys.stderr,
        )
        return 1
    for lock in locks:
        lock.unlink(missing_ok=True)
    print(
        f"removed a stale Snakemake lock ({len(locks)} file(s) in .snakemake/locks): its controller was "
        f"killed and no Snakemake runs here now",
        file=sys.stderr,
    )
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--directory", type=Path, default=Path("."), help="Snakemake's working directory")
    sys.exit(recover(parser.parse_args(argv).directory))


if __name__ == "__main__":
    main()
