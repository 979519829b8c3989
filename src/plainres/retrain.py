"""Set a training job back to nothing, so that the pipeline trains it again from scratch:

    python -m plainres.retrain PATH...    # what `make retrain RUN=PATH` runs before the pipeline

PATH is a run's folder (results/runs/<experiment>/<run-id>), a group's (…/_groups/<group>), or any file in
them, such as a snapshot a stage could not read. A run trains in a seed group, so its whole group is reset: the
group's checkpoint (and any set aside), job.json and done.json, and each of its runs' folders. The done.json
paths are printed on stdout: the Snakemake targets that train the groups again (Snakemake does not rebuild a
missing intermediate file by itself when what was made from it is still there).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .runfolder import GROUPS, GroupFolder


def owning_group(path: Path) -> Path:
    """The folder of the training job that trained `path` (a run or group folder, or a file in one)."""
    parts = path.parts
    if GROUPS in parts:
        return Path(*parts[: parts.index(GROUPS) + 2])
    run = path  # up to the run's folder: the one beside the experiment's _groups/
    while not (run.parent / GROUPS).is_dir():
        if run.parent == run:
            raise SystemExit(f"{path} is in no run's folder (results/runs/<experiment>/<run-id>/…)")
        run = run.parent
    experiment = run.parent
    for group in sorted((experiment / GROUPS).glob("*")):
        if any(Path(d).name == run.name for d in GroupFolder(group).members()):
            return group
    raise SystemExit(
        f"no training job under {experiment / GROUPS} records the run {run.name} (in its job.json "
        f"or done.json); name the group's folder instead: {experiment / GROUPS}/<group>"
    )


def reset(group: Path) -> Path:
    """Remove what the group's job wrote; return its done.json path (the target that retrains it)."""
    folder = GroupFolder(group)
    runs = folder.members()
    experiment = group.parent.parent
    for run in runs:
        if (experiment / Path(run).name).is_dir():
            shutil.rmtree(experiment / Path(run).name)
            print(f"removed {experiment / Path(run).name}", file=sys.stderr)
    # the done.json last: it is read above, and it is the target that trains the group again
    for file in [
        folder.checkpoint,
        *folder.set_aside_checkpoints(),
        folder.job_path,
        folder.imported_path,
        folder.done_path,
    ]:
        if file.exists():
            file.unlink()
            print(f"removed {file}", file=sys.stderr)
    if not runs:
        print(
            f"note: {group} lists no run folders (no readable job.json or done.json); its checkpoint is gone, "
            f"so its runs train from scratch and overwrite their folders",
            file=sys.stderr,
        )
    return folder.done_path


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("paths", nargs="+", type=Path, help="run or group folders, or files in them")
    args = parser.parse_args(argv)
    groups = dict.fromkeys(owning_group(p) for p in args.paths)  # each once, in order
    for group in groups:
        print(reset(group))


if __name__ == "__main__":
    main()
