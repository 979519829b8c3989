"""What `make run`, `make report`, `make retrain` and `make bundle` do, one controller at a time in a project
directory:

    python -m plainres.controller run [--target T] [--cores N] [--dry-run] [--config KEY=VALUE ...]
    python -m plainres.controller report [--target T] [--config KEY=VALUE ...]
    python -m plainres.controller bundle [--cores N] [--config KEY=VALUE ...]
    python -m plainres.controller retrain RUN [RUN ...] [--target T] [--cores N] [--config KEY=VALUE ...]

Each takes this directory's controller lock first (plainres.lock): a second one started meanwhile, even in the
same instant, stops at once with a message naming the first. Then `run` removes the lock a killed Snakemake
left, checks every finished run's files (plainres.verify), runs the pipeline, and writes the HTML report;
`report` writes the report alone; `retrain` resets the groups of the runs named (plainres.retrain), trains
them again, then does what `run` does; `bundle` checks the run files as `run` does, trains what is missing and
writes the config's results bundle (plainres.bundle), no report. The report of `all` is results/report.html,
that of one target results/report-<target>.html, each written under a temporary name and renamed when whole.
KEY=VALUE words are Snakemake's --config overrides, checked here first, so that a value that lost its quotes
reads as one line. `--dry-run` plans `run` (or `bundle`) and changes nothing (no lock, no report); `--directory`
runs in another directory, with this directory's Snakefile.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from . import lock, retrain, verify

KEY = re.compile(r"[a-zA-Z_][\w-]*\w$")  # a key Snakemake's --config accepts


class Refused(Exception):
    """What stops the controller before it starts anything: one line for the user."""


def check_overrides(words: list[str]) -> None:
    """Each word a KEY=VALUE that Snakemake reads as meant; a nested value that the shell split is refused."""
    hint = (
        "a value with spaces needs quotes inside CONFIG, e.g. make run CONFIG=\"experiments='{table1: {seeds: [0]}}'\""
    )
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or not KEY.match(key):
            raise Refused(f"CONFIG: {word!r} is not KEY=VALUE; {hint}")
        if value[:1] in "{[":
            try:
                parsed = yaml.safe_load(value)
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f" at column {mark.column + 1}" if mark else ""
                raise Refused(f"CONFIG: {word!r} is not a whole YAML value{where}; {hint}") from error
            if not isinstance(parsed, (dict, list)):
                raise Refused(f"CONFIG: {word!r} is not a whole YAML value; {hint}")


SNAKEFILE = Path("Snakefile")  # this directory's, made absolute before a --directory is entered


def snakemake(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), *args]


def call(command: list[str], held: lock.Held) -> int:
    """Run `command` holding the lock (its process inherits it); Ctrl-C reaches it alone, which shuts down."""
    process = subprocess.Popen(command, pass_fds=(held.fd,))
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def report_path(target: str) -> Path:
    return Path("results/report.html" if target == "all" else f"results/report-{target}.html")


def write_report(target: str, overrides: list[str], held: lock.Held) -> int:
    """Snakemake's report of `target`, written under a temporary name (a full disk or a kill leaves no half
    page) and renamed over the last one when whole."""
    final = report_path(target)
    partial = final.with_name(f".{final.stem}.partial.html")  # Snakemake names a report by its suffix
    partial.unlink(missing_ok=True)
    code = call(snakemake(target, "--report", str(partial), *config_args(overrides)), held)
    if code == 0:
        os.replace(partial, final)
        print(f"report: {final}", file=sys.stderr)
    partial.unlink(missing_ok=True)
    return code


def config_args(overrides: list[str]) -> list[str]:
    return ["--config", *overrides] if overrides else []


def pipeline(target: str, cores: int, overrides: list[str], held: lock.Held, report: bool = True) -> int:
    """Stale Snakemake lock, run files, the pipeline, its report."""
    if lock.recover(Path(".")) != 0:
        return 1
    if verify.main([]) != 0:
        return 1
    code = call(snakemake(target, "--cores", str(cores), *config_args(overrides)), held)
    return code or (write_report(target, overrides, held) if report else 0)


def main(argv=None) -> int:
    global SNAKEFILE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("run", "report", "retrain", "bundle"))
    parser.add_argument("runs", nargs="*", help="retrain: run or group folders, or files in them")
    parser.add_argument("--target", default="all")
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--config", nargs="*", default=[], help="Snakemake --config overrides, KEY=VALUE each")
    parser.add_argument("--dry-run", action="store_true", help="run: plan only")
    parser.add_argument("--directory", type=Path, default=Path("."), help="the project's results go here")
    args = parser.parse_args(argv)
    SNAKEFILE = SNAKEFILE.resolve()
    args.directory.mkdir(parents=True, exist_ok=True)
    os.chdir(args.directory)
    if args.action == "bundle":
        args.target = "bundle"
    try:
        check_overrides(args.config)
        if args.dry_run:
            plan = snakemake(args.target, "--cores", str(args.cores), "--dry-run", *config_args(args.config))
            return subprocess.run(plan).returncode
        if args.action == "retrain" and not args.runs:
            raise Refused("make retrain RUN=<run folder, group folder, or a file in one> [CONFIG=…]")
        with lock.held(Path("."), " ".join(["make", args.action, *args.runs, args.target])) as held:
            if args.action == "report":
                return write_report(args.target, args.config, held)
            if args.action == "bundle":
                return pipeline(args.target, args.cores, args.config, held, report=False)
            if args.action == "retrain":
                groups = [
                    str(retrain.reset(g)) for g in dict.fromkeys(retrain.owning_group(Path(r)) for r in args.runs)
                ]
                code = call(snakemake(*groups, "--cores", str(args.cores), *config_args(args.config)), held)
                if code:
                    return code
            return pipeline(args.target, args.cores, args.config, held)
    except (Refused, lock.Busy) as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
