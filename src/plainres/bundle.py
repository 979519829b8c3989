"""Results bundles: one machine's training, every reader's tables and figures (docs/bundles.md).

    results/bundle/plainres-<scale>.tar.gz   `make bundle`: a config's runs as one deterministic archive, whose
                                             first member is its manifest, plainres-bundle.json
    results/bundle/plainres-<scale>.json     the same manifest beside it, to read without unpacking

The archive holds what the tables, figures and measurements read of each training job: its done.json, each of
its runs' manifest.json and every file that manifest lists (no checkpoint, job.json or log). Its manifest (sealed
JSON) gives every file's SHA-256 and size, as a run's manifest does; the resolved config; each group's job and
its fingerprint; the code, torch and devices that trained the runs; the data each dataset's runs trained on (the
SHA-256 of the images themselves); and the targets it serves.

`runs_source` (a path, an http(s) URL or zenodo:RECORD/FILE) imports one. `plan`, when the workflow is planned,
fetches the archive, reads its manifest, compares each group it holds with this config's and refuses to replace
runs trained here. `install`, the rule import_runs, checks every byte of the archive against the manifest and
the images against this config's data, and only then writes the runs' folders, each group's imported.json and,
last, its done.json. Each refusal is one line (BundleError); nothing is imported before every check has passed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import urllib.parse
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from . import targets
from .data import load_cached
from .files import (
    FetchError,
    Unreadable,
    atomic_stream,
    atomic_write_bytes,
    digest,
    fetch_url,
    parse_sealed_json,
    read_sealed_json,
    sealed_json,
)
from .grid import data_file, experiment_dataset, target_experiments, target_groups, training_jobs
from .provenance import code_version
from .runfolder import RUNS_DIR, GroupFolder, RunFolder

FORMAT = "plainres-bundle/1"
MANIFEST = "plainres-bundle.json"
BUNDLE_DIR = "results/bundle"
DOWNLOADS = f"{BUNDLE_DIR}/download"
STAGING = f"{BUNDLE_DIR}/.import"  # an import's verified files before they go into place (same file system)
ZENODO = "https://zenodo.org/records/{record}/files/{name}?download=1"
RUN_FILE = re.compile(rf"{RUNS_DIR}/[^/]+/(?:[^/.][^/]*/)*[^/]+")  # a relative path under results/runs, no ..


class BundleError(RuntimeError):
    """A bundle refused: one line naming the source and what is wrong. Nothing was imported."""


def archive_path(scale: str) -> str:
    return f"{BUNDLE_DIR}/plainres-{scale}.tar.gz"


def manifest_path(scale: str) -> str:
    return f"{BUNDLE_DIR}/plainres-{scale}.json"


def canonical(value):
    """`value` as JSON reads it back (tuples as lists): how a job is compared with a manifest's."""
    return json.loads(json.dumps(value, sort_keys=True, default=list))


def fingerprint(job: dict) -> str:
    """The SHA-256 of a training job's runs, train config and folders (grid.Group.job)."""
    return hashlib.sha256(json.dumps(canonical(job), sort_keys=True).encode()).hexdigest()


def served(config: dict, folders) -> list[str]:
    """The targets from training whose every training job is among `folders` (the simulations need none)."""
    jobs = training_jobs(config)
    return sorted(
        t.name
        for t in targets.TARGETS.values()
        if t.source != "simulation"
        and all(g.folder in folders for experiment in target_experiments(config, t) for g in jobs[experiment])
    )


# ---------------------------------------------------------------- export


def _member(name: str, blob: bytes) -> tuple[tarfile.TarInfo, io.BytesIO]:
    """A tar member that depends on its name and bytes alone (no time, owner or mode of the file it came from)."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = len(blob), 0, 0o644, 0, 0, "", ""
    return info, io.BytesIO(blob)


def _data_record(dataset: str, path: str) -> dict:
    data, meta = load_cached(Path(path))
    return {
        "dataset": dataset,
        "images_sha256": data.content_sha256(),
        "file_sha256": meta["file_sha256"],
        "source": meta["source"],
        "counts": meta["counts"],
    }


def export(config: dict, archive: Path, manifest_out: Path) -> dict:
    """Every training job of `config` (each checked: done.json's seal, every run file against its manifest) into
    `archive`, its manifest first, and the manifest into `manifest_out`; returns the manifest."""
    groups = target_groups(config)
    datasets = {experiment_dataset(config, g.experiment) for g in groups.values()}
    data = {d: _data_record(d, data_file(config, d)) for d in sorted(datasets)}
    files, trained_by, records = {}, {"code_version": set(), "torch_version": set(), "device_name": set()}, {}
    for folder, group in sorted(groups.items()):
        home, dataset = GroupFolder(folder), experiment_dataset(config, group.experiment)
        for entry in home.done():
            run = RunFolder(entry["dir"])
            run.verify()
            run_config = run.config()
            if run_config["data"]["file_sha256"] != data[dataset]["file_sha256"]:
                raise BundleError(
                    f"{run.path} trained on other data than {data_file(config, dataset)} holds; train it again "
                    f"with this config's data before exporting it"
                )
            for key, seen in trained_by.items():
                seen.add(run_config[key])
            files[run.manifest_path.as_posix()] = digest(run.manifest_path.read_bytes())
            files.update({(run.path / name).as_posix(): d for name, d in run.manifest()["files"].items()})
        files[home.done_path.as_posix()] = digest(home.done_path.read_bytes())
        job = canonical(group.job())
        records[folder] = {
            "experiment": group.experiment,
            "dataset": dataset,
            "job": job,
            "fingerprint": fingerprint(job),
        }
    manifest = {
        "format": FORMAT,
        "scale": config["scale"],
        "exported_by": code_version(),
        "trained_by": {key: sorted(seen) for key, seen in trained_by.items()},
        "data": data,
        "targets": served(config, groups),
        "groups": records,
        "config": canonical(config),
        "files": dict(sorted(files.items())),
    }
    blob = sealed_json(manifest)
    with (
        atomic_stream(archive) as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.addfile(*_member(MANIFEST, blob))
        for name, recorded in manifest["files"].items():
            content = Path(name).read_bytes()
            if digest(content) != recorded:
                raise BundleError(f"{name} changed while the bundle was written; export it again")
            tar.addfile(*_member(name, content))
    atomic_write_bytes(manifest_out, blob)
    return manifest


# ---------------------------------------------------------------- import: the plan, when the workflow is planned


def source_url(source: str) -> str | None:
    """The URL `runs_source` names: an http(s) URL itself, zenodo:RECORD/FILE (or zenodo://RECORD/FILE) that
    Zenodo record's file; None for a local path."""
    if re.match(r"https?://", source):
        return source
    if source.startswith("zenodo:"):
        found = re.fullmatch(r"zenodo:(?://)?(\d+)/([^/]+)", source)
        if not found:
            raise BundleError(
                f"runs_source: {source}: a Zenodo record's file reads zenodo:RECORD/FILE, e.g. "
                f"zenodo:1234567/plainres-laptop.tar.gz"
            )
        return ZENODO.format(record=found[1], name=urllib.parse.quote(found[2]))
    return None


def local_download(url: str) -> Path:
    """Where a bundle fetched from `url` is kept: results/bundle/download/<the URL's digest>-<its file name>."""
    name = PurePosixPath(urllib.parse.urlparse(url).path).name or "bundle.tar.gz"
    return Path(DOWNLOADS) / f"{hashlib.sha256(url.encode()).hexdigest()[:12]}-{name}"


def local_archive(source: str, timeout: float) -> Path:
    """The bundle on this machine: a local path as it is, a URL fetched once into results/bundle/download/."""
    url = source_url(source)
    if url is None:
        path = Path(source).expanduser()
        if not path.is_file():
            raise BundleError(
                f"runs_source: {source}: no such file (give a bundle's path, an http(s) URL or zenodo:RECORD/FILE; "
                f"relative paths start in {Path.cwd()})"
            )
        return path
    dest = local_download(url)
    if not dest.is_file():
        print(f"runs_source: fetching {url} → {dest}", file=sys.stderr, flush=True)
        try:
            fetch_url(url, dest, timeout)
        except FetchError as error:
            raise BundleError(f"runs_source: {error} (data.download_timeout_s: {timeout:g} s)") from error
    return dest


def _damaged(source: str, archive: Path, what: str) -> BundleError:
    """A refusal for a damaged archive; a damaged download is removed, so that the next run fetches it again."""
    if Path(archive).is_relative_to(DOWNLOADS):
        Path(archive).unlink(missing_ok=True)
        what += f"; the download {archive} was removed, the next run fetches it again"
    return BundleError(f"runs_source: {source}: {what}")


def parse_manifest(blob: bytes, source: str) -> dict:
    """The manifest, its seal, format and file names checked (each a file under results/runs)."""
    try:
        manifest = parse_sealed_json(blob, PurePosixPath(MANIFEST))
    except Unreadable as error:
        raise BundleError(f"runs_source: {source}: {error}") from error
    if manifest.get("format") != FORMAT:
        raise BundleError(f"runs_source: {source}: format {manifest.get('format')!r}; this plainres reads {FORMAT}")
    bad = [name for name in manifest["files"] if not RUN_FILE.fullmatch(name) or "/../" in f"/{name}/"]
    if bad:
        raise BundleError(f"runs_source: {source}: {bad[0]}: not a run file's path")
    return manifest


def read_manifest(archive: Path, source: str) -> dict:
    """The manifest, the archive's first member."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST or not first.isfile():
                raise BundleError(f"runs_source: {source}: not a plainres bundle (no {MANIFEST} first)")
            blob = tar.extractfile(first).read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise _damaged(source, archive, f"not a readable bundle ({error})") from error
    return parse_manifest(blob, source)


def first_difference(theirs, ours, key: str = "") -> tuple[str, object, object] | None:
    """The first key (dotted, with [i] for list items) where two JSON values differ, and the two values."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        for k in sorted(set(theirs) | set(ours)):
            found = first_difference(theirs.get(k), ours.get(k), f"{key}.{k}" if key else k)
            if found:
                return found
        return None
    if isinstance(theirs, list) and isinstance(ours, list) and len(theirs) == len(ours):
        for i, (a, b) in enumerate(zip(theirs, ours)):
            found = first_difference(a, b, f"{key}[{i}]")
            if found:
                return found
        return None
    return None if theirs == ours else (key, theirs, ours)


def run_dirs(manifest: dict, folder: str) -> list[RunFolder]:
    return [RunFolder(d) for d in manifest["groups"][folder]["job"]["out_dirs"]]


def holds(manifest: dict, folder: str) -> bool:
    """Whether the group's runs here are the bundle's: the same manifest.json, byte for byte, in each."""
    return all(
        run.manifest_path.is_file()
        and digest(run.manifest_path.read_bytes()) == manifest["files"].get(run.manifest_path.as_posix())
        for run in run_dirs(manifest, folder)
    )


def trained_here(manifest: dict, folders: list[str]) -> list[str]:
    """Those of the groups whose runs here are not the bundle's: a checkpoint of training here, or a run whose
    manifest is another."""
    return [
        folder
        for folder in folders
        if GroupFolder(folder).checkpoint.exists()
        or (any(run.manifest_path.exists() for run in run_dirs(manifest, folder)) and not holds(manifest, folder))
    ]


@dataclass
class Plan:
    """What a bundle gives this config: the archive on this machine and the groups it imports."""

    source: str
    archive: Path
    manifest: dict
    groups: list[str]  # the group folders of this config that the bundle holds

    def done(self) -> list[str]:
        return [str(GroupFolder(folder).done_path) for folder in self.groups]

    def datasets(self) -> list[str]:
        return sorted({self.manifest["groups"][folder]["dataset"] for folder in self.groups})


def plan(config: dict) -> Plan:
    """The bundle `runs_source` names, fetched and its manifest read; each group this config trains that it
    holds, checked to be the same job on the same dataset; runs trained here refused unless runs_overwrite."""
    source, groups = config["runs_source"], target_groups(config)
    archive = local_archive(source, config["data"]["download_timeout_s"])
    manifest = read_manifest(archive, source)
    held = [folder for folder in sorted(groups) if folder in manifest["groups"]]
    for folder in held:
        theirs, group = manifest["groups"][folder], groups[folder]
        dataset = experiment_dataset(config, group.experiment)
        if theirs["dataset"] != dataset:
            raise BundleError(
                f"runs_source: {source}: its {folder} trained on {theirs['dataset']}, this config's on {dataset}"
            )
        differs = first_difference(theirs["job"], canonical(group.job()))
        if differs:
            key, bundled, here = differs
            raise BundleError(
                f"runs_source: {source}: its {folder} was trained with {key} = {json.dumps(bundled)}, this config "
                f"has {json.dumps(here)}; build with the bundle's config (scale={manifest['scale']}) or leave "
                f"runs_source out"
            )
    # a group whose runs here are the bundle's already: trained here (the exporter's own), it stays the train rule's
    # (nothing to do); imported, it stays this rule's; any other is imported
    present = {folder for folder in held if GroupFolder(folder).done_path.exists() and holds(manifest, folder)}
    held = [folder for folder in held if folder not in present or GroupFolder(folder).imported_path.exists()]
    pending = [folder for folder in held if folder not in present]
    if pending and not config["runs_overwrite"]:
        replaced = trained_here(manifest, pending)
        if replaced:
            raise BundleError(
                f"runs_source: {source}: {len(replaced)} of its groups were trained here ({replaced[0]}"
                f"{', …' if len(replaced) > 1 else ''}); add runs_overwrite=true to replace them, or leave "
                f"runs_source out"
            )
    if pending:
        print(
            f"runs_source: {source}: {len(held)} of this config's {len(groups)} training jobs come from the bundle "
            f"({len(pending)} to import), {len(groups) - len(held)} train here",
            file=sys.stderr,
        )
        versions, here = manifest["trained_by"]["code_version"], code_version()
        if versions != [here]:
            print(
                f"warning: runs_source: {source}: its runs were trained by code {', '.join(versions)}; this is "
                f"code {here}",
                file=sys.stderr,
            )
    return Plan(source, archive, manifest, held)


# ---------------------------------------------------------------- import: the rule import_runs


class _Hashing(io.RawIOBase):
    """A file read through, every byte into a SHA-256."""

    def __init__(self, raw):
        self.raw, self.sha = raw, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.sha.update(memoryview(buffer)[:n])
        return n


def unpack(source: str, archive: Path, folders: list[str], staging: Path) -> tuple[dict, str]:
    """Every member of the archive checked against its manifest (and every file the manifest lists present);
    those of the groups `folders` (their group and run folders) written under `staging`. (The manifest, the
    archive's SHA-256.)"""
    seen: set[str] = set()
    wanted: set[str] = set()
    with open(archive, "rb") as raw:
        hashing = _Hashing(raw)
        try:
            with tarfile.open(fileobj=io.BufferedReader(hashing), mode="r|gz") as tar:
                manifest = None
                for member in tar:
                    blob = tar.extractfile(member).read() if member.isfile() else None
                    if manifest is None:
                        if member.name != MANIFEST or blob is None:
                            raise BundleError(f"runs_source: {source}: not a plainres bundle (no {MANIFEST} first)")
                        manifest = parse_manifest(blob, source)
                        missing = [folder for folder in folders if folder not in manifest["groups"]]
                        if missing:
                            raise BundleError(f"runs_source: {source}: holds no {missing[0]}")
                        dirs = folders + [run.path.as_posix() for f in folders for run in run_dirs(manifest, f)]
                        wanted = {n for n in manifest["files"] if any(n.startswith(f"{d}/") for d in dirs)}
                        continue
                    recorded = manifest["files"].get(member.name)
                    if blob is None or recorded is None or member.name in seen:
                        raise BundleError(f"runs_source: {source}: {member.name}: not a file its manifest lists once")
                    if digest(blob) != recorded:
                        raise _damaged(
                            source, archive, f"{member.name} does not match the SHA-256 and size its manifest records"
                        )
                    seen.add(member.name)
                    if member.name in wanted:
                        atomic_write_bytes(staging / member.name, blob)
            while hashing.read(1 << 20):  # the rest of the file, into its SHA-256
                pass
        except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
            raise _damaged(source, archive, f"truncated or damaged archive ({error})") from error
    if manifest is None:
        raise _damaged(source, archive, "an empty archive")
    missing = sorted(set(manifest["files"]) - seen)
    if missing:
        raise _damaged(
            source, archive, f"the archive lacks {len(missing)} of the files its manifest lists ({missing[0]}, …)"
        )
    return manifest, hashing.sha.hexdigest()


def describe(source: dict) -> str:
    return " ".join(str(source[k]) for k in ("kind", "location") if source.get(k))


def install(source: str, archive: Path, folders: list[str], data_files: dict[str, str], overwrite: bool) -> str:
    """Import the groups `folders` from the bundle: every byte of the archive checked, the images of each dataset
    checked against those the runs trained on, runs trained here left alone unless `overwrite`; then each run's
    files, the group's imported.json and, last, its done.json into place. A line saying what was imported."""
    staging = Path(STAGING)
    shutil.rmtree(staging, ignore_errors=True)  # what a killed import left
    try:
        manifest, sha256 = unpack(source, archive, folders, staging)
        for dataset, path in sorted(data_files.items()):
            theirs = manifest["data"][dataset]
            data, meta = load_cached(Path(path))
            if data.content_sha256() != theirs["images_sha256"]:
                raise BundleError(
                    f"runs_source: {source}: its runs trained on {dataset} from {describe(theirs['source'])}; this "
                    f"config's data ({describe(meta['source'])}, {path}) holds other images: set data_source to a "
                    f"copy of the bundle's"
                )
        replaced = [] if overwrite else trained_here(manifest, folders)
        if replaced:
            raise BundleError(
                f"runs_source: {source}: {len(replaced)} of its groups were trained here ({replaced[0]}); add "
                f"runs_overwrite=true to replace them"
            )
        record = {
            "source": source,
            "archive_sha256": sha256,
            "scale": manifest["scale"],
            "exported_by": manifest["exported_by"],
            "trained_by": manifest["trained_by"],
        }
        data_sha256 = {
            d: read_sealed_json(Path(path).with_suffix(".json"))["file_sha256"] for d, path in data_files.items()
        }
        for folder in folders:
            home = GroupFolder(folder)
            home.done_path.unlink(missing_ok=True)
            home.forget_training()
            runs = run_dirs(manifest, folder)
            for run in runs:
                run.clear()
            for name in sorted(manifest["files"]):
                if any(name.startswith(f"{run.path.as_posix()}/") for run in runs):
                    Path(name).parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staging / name, name)  # results/bundle and results/runs: one file system
            entry = manifest["groups"][folder]
            done = staging / home.done_path.as_posix()
            home.write_imported(
                {
                    **record,
                    "job": entry["job"],
                    "data_file_sha256": data_sha256[entry["dataset"]],
                    "done": done.read_text(),
                }
            )
            os.replace(done, home.done_path)  # last: the group is whole
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return f"imported {len(folders)} training jobs from {source} (sha256 {sha256[:16]}, trained by code " + (
        f"{', '.join(manifest['trained_by']['code_version'])})"
    )
