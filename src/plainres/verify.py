"""Check every run file before the pipeline builds from it:

    python -m plainres.verify          # what `make run` does before Snakemake starts

For each training job that finished (its group's done.json, sealed), each of its runs' manifest.json and every
file the manifest lists, byte for byte against the SHA-256 and size recorded when it was written, and
metrics.csv and iterations.csv against the run's epochs and evaluation schedule. Each damaged file is named
with what is wrong and the command that rebuilds its run, and the exit status is 1, so that nothing is built
from it. A job still under way (no done.json) is left alone: its files are checked when it ends.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .files import Unreadable
from .runfolder import GROUPS, RUNS_DIR, GroupFolder, RunFolder


def damaged(runs_dir: Path = Path(RUNS_DIR)) -> tuple[list[str], dict]:
    """(one message per damaged run or group, what was checked: groups, runs, files, bytes)."""
    problems, checked = [], {"groups": 0, "runs": 0, "files": 0, "bytes": 0}
    for done in sorted(Path(runs_dir).glob(f"*/{GROUPS}/*/done.json")):
        checked["groups"] += 1
        try:
            entries = GroupFolder.of(done).done()
        except Unreadable as error:
            problems.append(str(error))
            continue
        for entry in entries:
            folder = RunFolder(entry["dir"])
            try:
                folder.verify()
            except Unreadable as error:
                problems.append(str(error))
                continue
            checked["runs"] += 1
            for file in folder.manifest()["files"].values():
                checked["files"] += 1
                checked["bytes"] += file["size"]
    return problems, checked


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=Path, default=Path(RUNS_DIR), help="the runs' folder")
    args = parser.parse_args(argv)
    began = time.perf_counter()
    problems, checked = damaged(args.runs)
    if problems:
        print(f"{len(problems)} run file(s) are damaged; nothing is built from them:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if checked["groups"]:
        print(
            f"run files verified: {checked['files']} files of {checked['runs']} runs "
            f"({checked['bytes'] / 1e6:.1f} MB) in {time.perf_counter() - began:.2f} s",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
