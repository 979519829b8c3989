"""Results bundles (plainres.bundle): a scale's runs exported as one deterministic archive, imported elsewhere in
place of training, every byte verified, and every table and figure rebuilt from it byte for byte; each refusal one
line, with nothing half-imported."""

import functools
import http.server
import shutil
import socket
import tarfile
import threading
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run

from plainres import bundle
from plainres.configuration import resolve
from plainres.files import parse_sealed_json, sealed_json
from plainres.runfolder import GroupFolder, RunFolder
from plainres.targets import TARGETS
from plainres.train import run_claimed

BASE = yaml.safe_load((REPO / "config.yaml").read_text())
BUILT = ("tables", "figures", "measures", "scorecard.md")  # what `all` builds from the runs and the simulations


# ---------------------------------------------------------------- without a bundle


@pytest.mark.parametrize(
    "source, url",
    [
        ("https://example.org/b/plainres-laptop.tar.gz", "https://example.org/b/plainres-laptop.tar.gz"),
        ("http://127.0.0.1:8000/x.tar.gz", "http://127.0.0.1:8000/x.tar.gz"),
        (
            "zenodo:1234567/plainres-laptop.tar.gz",
            "https://zenodo.org/records/1234567/files/plainres-laptop.tar.gz?download=1",
        ),
        (
            "zenodo://1234567/plainres laptop.tar.gz",
            "https://zenodo.org/records/1234567/files/plainres%20laptop.tar.gz?download=1",
        ),
        ("results/bundle/plainres-smoke.tar.gz", None),
        ("/data/zenodo:1/x.tar.gz", None),
    ],
)
def test_a_runs_source_names_a_url_a_zenodo_records_file_or_a_path(source, url):
    assert bundle.source_url(source) == url


@pytest.mark.parametrize("source", ["zenodo:1234567", "zenodo:record/x.tar.gz", "zenodo:1/a/b.tar.gz"])
def test_a_zenodo_source_without_record_and_file_is_refused_with_its_form(source):
    with pytest.raises(bundle.BundleError, match=r"zenodo:RECORD/FILE, e\.g\. zenodo:1234567/plainres-laptop"):
        bundle.source_url(source)


def test_first_difference_names_the_dotted_key_and_both_values():
    theirs = {"train": {"lr": 0.1, "milestones": [1, 2]}, "runs": [{"seed": 0}]}
    assert bundle.first_difference(theirs, theirs) is None
    assert bundle.first_difference(theirs, {**theirs, "train": {"lr": 0.05, "milestones": [1, 2]}}) == (
        "train.lr",
        0.1,
        0.05,
    )
    assert bundle.first_difference(theirs, {**theirs, "runs": [{"seed": 3}]}) == ("runs[0].seed", 0, 3)
    assert bundle.first_difference(theirs, {**theirs, "train": {"lr": 0.1}}) == ("train.milestones", [1, 2], None)


def test_a_url_that_does_not_answer_in_time_is_refused_in_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    """A real server that accepts the connection and never answers."""
    monkeypatch.chdir(tmp_path)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/plainres-laptop.tar.gz"
        with pytest.raises(bundle.BundleError) as refused:
            bundle.local_archive(url, timeout=1)
    assert str(refused.value) == f"runs_source: {url}: no answer within 1 s (data.download_timeout_s: 1 s)"
    assert not [p for p in (tmp_path / bundle.DOWNLOADS).rglob("*") if p.is_file()]


def test_a_local_source_that_is_not_there_is_refused_in_one_line(tmp_path):
    with pytest.raises(bundle.BundleError, match=r"runs_source: .*nowhere\.tar\.gz: no such file"):
        bundle.local_archive(str(tmp_path / "nowhere.tar.gz"), timeout=1)


# ---------------------------------------------------------------- the smoke scale's bundle


@pytest.fixture(scope="module")
def exported(smoke, tmp_path_factory):
    """The smoke build's bundle, exported twice: (the archive, a copy of the first export)."""
    made = run(smoke, "bundle", "--config", "scale=smoke")
    assert made.returncode == 0, made.stderr[-3000:]
    archive = smoke / bundle.archive_path("smoke")
    first = shutil.copy(archive, tmp_path_factory.mktemp("first") / archive.name)
    archive.unlink()
    again = run(smoke, "bundle", "--config", "scale=smoke")
    assert again.returncode == 0, again.stderr[-3000:]
    return archive, Path(first)


def config(smoke: Path, source, **overrides) -> dict:
    """The smoke config with `runs_source`, its synthetic data cached in the smoke build."""
    return resolve(BASE, {"scale": "smoke", "runs_source": str(source), **overrides})


def data_files(smoke: Path) -> dict[str, str]:
    return {d: str(next((smoke / "results" / "data" / d).glob("synthetic-*.pt"))) for d in ("cifar10", "cifar100")}


def members(archive: Path) -> tuple[dict, dict[str, bytes]]:
    with tarfile.open(archive, "r:gz") as tar:
        found = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = parse_sealed_json(found.pop(bundle.MANIFEST), Path(bundle.MANIFEST))
    return manifest, found


def rewritten(archive: Path, out: Path, manifest: dict, files: dict[str, bytes]) -> Path:
    """An archive of `files` with `manifest` (sealed again) first, as `make bundle` writes one."""
    with tarfile.open(out, "w:gz") as tar:
        for name, blob in [(bundle.MANIFEST, sealed_json(manifest)), *sorted(files.items())]:
            tar.addfile(*bundle._member(name, blob))
    return out


def only(archive: Path, out: Path, experiments: set[str]) -> Path:
    """The bundle cut down to the groups of `experiments`."""
    manifest, files = members(archive)
    keep = {f for f, g in manifest["groups"].items() if g["experiment"] in experiments}
    dirs = [d for f in keep for d in [f, *manifest["groups"][f]["job"]["out_dirs"]]]
    manifest["groups"] = {f: manifest["groups"][f] for f in keep}
    kept = {n: b for n, b in files.items() if any(n.startswith(f"{d}/") for d in dirs)}
    manifest["files"] = {n: manifest["files"][n] for n in sorted(kept)}
    return rewritten(archive, out, manifest, kept)


def nothing_imported(root: Path) -> bool:
    return not [p for p in (root / "results" / "runs").rglob("*") if p.is_file()]


def folders(manifest: dict) -> list[str]:
    return sorted(manifest["groups"])


@pytest.mark.slow
def test_the_export_is_deterministic_and_holds_what_the_targets_read_with_its_manifest(exported, smoke):
    archive, first = exported
    assert archive.read_bytes() == first.read_bytes()
    manifest, files = members(archive)
    beside = (smoke / bundle.manifest_path("smoke")).read_bytes()
    assert parse_sealed_json(beside, Path("m")) == {**manifest}
    assert set(files) == set(manifest["files"]) and all(
        bundle.digest(blob) == manifest["files"][name] for name, blob in files.items()
    )
    assert not [n for n in files if n.endswith(("checkpoint.pt", "job.json", ".log"))]
    assert {n.rsplit("/", 1)[-1] for n in files} >= {"done.json", "manifest.json", "metrics.csv", "final.pt"}
    assert not [g for g in manifest["groups"] if g.startswith("results/runs/study_")]  # the scale study's: not read
    for folder, group in manifest["groups"].items():
        assert group["fingerprint"] == bundle.fingerprint(group["job"]) and group["job"]["group"] == folder
    smoke_config = config(smoke, archive)
    assert manifest["config"]["scale"] == "smoke" and manifest["trained_by"]["device_name"] == ["cpu"]
    assert manifest["targets"] == sorted(t for t in bundle.served(smoke_config, manifest["groups"]))
    assert {"yt_table1", "yt_fig3", "lw_appc"} <= set(manifest["targets"])
    assert (
        set(manifest["data"]) == {"cifar10", "cifar100"}
        and manifest["data"]["cifar10"]["source"]["kind"] == "synthetic"
    )


@pytest.mark.slow
def test_a_bundle_rebuilds_every_output_byte_for_byte_but_the_lines_naming_it(exported, smoke, tmp_path):
    archive, _ = exported
    planned = run(tmp_path, "--config", "scale=smoke", f"runs_source={archive}", "--dry-run")
    assert planned.returncode == 0, planned.stderr[-3000:]
    jobs = planned.stdout
    assert "import_runs" in jobs and "\ntrain " not in jobs and "rule train:" not in jobs
    assert f"runs_source: {archive}: 31 of this config's 31 training jobs come from the bundle" in planned.stderr
    made = run(tmp_path, "--config", "scale=smoke", f"runs_source={archive}")
    assert made.returncode == 0, made.stderr[-3000:]
    assert "Nothing to be done" in run(tmp_path, "--config", "scale=smoke", f"runs_source={archive}", "-n").stdout
    ours, theirs = tmp_path / "results", smoke / "results"
    built = sorted(p for name in BUILT for p in ([ours / name] if name.endswith(".md") else (ours / name).rglob("*")))
    compared = differing = 0
    for path in filter(Path.is_file, built):
        mine, exporters = path.read_bytes(), (theirs / path.relative_to(ours)).read_bytes()
        compared += 1
        if mine == exporters:
            continue
        differing += 1
        lines = [(a, b) for a, b in zip(mine.splitlines(), exporters.splitlines(), strict=True) if a != b]
        assert all(b"runs_from: trained here" in b or b.startswith(b"Runs: trained by") for _, b in lines), path
        assert all(f"bundle {archive} (sha256 ".encode() in a for a, _ in lines), path
    images = [p for p in built if p.suffix in (".png", ".pdf")]
    figures = [t for t in TARGETS.values() if t.kind == "figure"]
    assert len(images) == 2 * len(figures) and 0 < differing < compared
    assert all(p.read_bytes() == (theirs / p.relative_to(ours)).read_bytes() for p in images)
    assert f"bundle {archive}" in (ours / "scorecard.md").read_text().split("\n\n")[1]


@pytest.mark.slow
def test_a_bundle_holding_some_groups_imports_them_and_trains_the_rest(exported, tmp_path):
    part = only(exported[0], tmp_path / "table1.tar.gz", {"table1"})
    planned = run(tmp_path / "work", "--config", "scale=smoke", f"runs_source={part}", "--dry-run")
    assert planned.returncode == 0, planned.stderr[-3000:]
    counts = dict(
        line.split()[:2] for line in planned.stdout.splitlines() if line.split()[1:2] and line.split()[1].isdigit()
    )
    assert counts["import_runs"] == "1" and counts["train"] == str(31 - 8)
    assert "8 of this config's 31 training jobs come from the bundle (8 to import), 23 train here" in planned.stderr


@pytest.mark.slow
def test_a_bundle_of_another_config_is_refused_when_planning_naming_the_key(exported, tmp_path):
    planned = run(tmp_path, "--config", "scale=smoke", f"runs_source={exported[0]}", "train={lr: 0.5}", "--dry-run")
    first = [line for line in (planned.stdout + planned.stderr).splitlines() if "runs_source:" in line]
    assert planned.returncode != 0 and "was trained with train.lr = " in first[0] and "this config has 0.5" in first[0]
    assert not (tmp_path / "results" / "runs").exists()


@pytest.mark.slow
def test_install_imports_and_a_kept_import_needs_no_training(exported, smoke, tmp_path, monkeypatch):
    archive = exported[0]
    monkeypatch.chdir(tmp_path)
    planned = bundle.plan(config(smoke, archive))
    said = bundle.install(str(archive), archive, planned.groups, data_files(smoke), overwrite=False)
    assert said.startswith(f"imported 31 training jobs from {archive} (sha256 ")
    for folder in planned.groups:
        assert (tmp_path / GroupFolder(folder).done_path).read_bytes() == (
            smoke / GroupFolder(folder).done_path
        ).read_bytes()
    RunFolder(planned.manifest["groups"][planned.groups[0]]["job"]["out_dirs"][0]).verify()
    assert not (tmp_path / bundle.STAGING).exists()
    # without runs_source, the train rule keeps the runs a bundle gave: done.json again, byte for byte
    home = GroupFolder(planned.groups[0])
    job = planned.manifest["groups"][planned.groups[0]]["job"]
    done = home.done_path.read_bytes()
    home.done_path.unlink()
    kept = run_claimed({**job, "device": "cpu"}, Path(data_files(smoke)["cifar10"]), 1, tmp_path / "locks")
    assert [(run.run_id, status) for run, _, status in kept] == [(r["run_id"], r["status"]) for r in home.done()]
    assert home.done_path.read_bytes() == done
    snapshot = RunFolder(job["out_dirs"][0]).snapshot_path("final")
    snapshot.write_bytes(snapshot.read_bytes()[:-1] + b"!")
    assert not home.keep_imported(job, "0" * 64) and not home.keep_imported(job, home.imported()["data_file_sha256"])


@pytest.mark.slow
def test_a_file_whose_checksum_does_not_match_is_refused_naming_it(exported, smoke, tmp_path, monkeypatch):
    manifest, files = members(exported[0])
    name = next(n for n in sorted(files) if n.endswith("final.pt"))
    files[name] = files[name][:100] + bytes([files[name][100] ^ 1]) + files[name][101:]
    bad = rewritten(exported[0], tmp_path / "bad.tar.gz", manifest, files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bundle.BundleError) as refused:
        bundle.install(str(bad), bad, folders(manifest), data_files(smoke), overwrite=False)
    assert str(refused.value) == f"runs_source: {bad}: {name} does not match the SHA-256 and size its manifest records"
    assert nothing_imported(tmp_path) and not (tmp_path / bundle.STAGING).exists()


@pytest.mark.slow
@pytest.mark.parametrize("cut", [0.5, 0.999])
def test_a_truncated_archive_is_refused_and_nothing_is_imported(exported, smoke, tmp_path, monkeypatch, cut):
    blob = exported[0].read_bytes()
    short = tmp_path / "short.tar.gz"
    short.write_bytes(blob[: int(len(blob) * cut)])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(bundle.BundleError, match=rf"runs_source: {short}: truncated or damaged archive \("):
        bundle.install(str(short), short, folders(members(exported[0])[0]), data_files(smoke), overwrite=False)
    assert nothing_imported(tmp_path)
    short.write_bytes(blob[:300])  # cut inside the manifest: refused when planning
    with pytest.raises(bundle.BundleError, match=rf"runs_source: {short}: not a readable bundle"):
        bundle.plan(config(smoke, short))


@pytest.mark.slow
def test_a_bundle_from_other_data_is_refused_naming_both_sources(exported, smoke, tmp_path, monkeypatch):
    """Its runs trained on the synthetic CIFAR-10; this config's data holds other images (here CIFAR-100's)."""
    monkeypatch.chdir(tmp_path)
    manifest = members(exported[0])[0]
    other = {"cifar10": data_files(smoke)["cifar100"], "cifar100": data_files(smoke)["cifar100"]}
    with pytest.raises(bundle.BundleError) as refused:
        bundle.install(str(exported[0]), exported[0], folders(manifest), other, overwrite=False)
    assert "its runs trained on cifar10 from synthetic; this config's data (synthetic, " in str(refused.value)
    assert "holds other images: set data_source to a copy of the bundle's" in str(refused.value)
    assert nothing_imported(tmp_path)


@pytest.mark.slow
def test_a_bundle_that_would_replace_runs_trained_here_is_refused_unless_asked(exported, smoke, tmp_path, monkeypatch):
    archive = exported[0]
    monkeypatch.chdir(tmp_path)
    group = GroupFolder(folders(members(archive)[0])[0])
    group.path.mkdir(parents=True)
    group.checkpoint.write_bytes(b"training here")
    with pytest.raises(
        bundle.BundleError, match=r"1 of its groups were trained here \(results/runs/.*\); add runs_overwrite=true"
    ):
        bundle.plan(config(smoke, archive))
    assert group.checkpoint.read_bytes() == b"training here"
    planned = bundle.plan(config(smoke, archive, runs_overwrite=True))
    bundle.install(str(archive), archive, planned.groups, data_files(smoke), overwrite=True)
    assert not group.checkpoint.exists() and group.imported()["source"] == str(archive)


@pytest.mark.slow
def test_a_bundle_from_another_code_version_is_accepted_with_one_warning(
    exported, smoke, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bundle, "code_version", lambda: "0123456789ab")
    bundle.plan(config(smoke, exported[0]))
    warned = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    trained = ", ".join(members(exported[0])[0]["trained_by"]["code_version"])
    assert warned == [
        f"warning: runs_source: {exported[0]}: its runs were trained by code {trained}; this is code 0123456789ab"
    ]


@pytest.mark.slow
def test_a_bundle_is_fetched_from_a_real_http_server_once(exported, smoke, tmp_path, monkeypatch):
    archive = exported[0]
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            hits.append(self.path)

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(archive.parent))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{archive.name}"
    monkeypatch.chdir(tmp_path)
    try:
        planned = bundle.plan(config(smoke, url))
        assert planned.archive.read_bytes() == archive.read_bytes() and planned.archive.is_relative_to(bundle.DOWNLOADS)
        bundle.install(url, planned.archive, planned.groups[:2], data_files(smoke), overwrite=False)
        bundle.plan(config(smoke, url))  # planned again: the download is there
    finally:
        server.shutdown()
    assert len(hits) == 1 and GroupFolder(planned.groups[0]).imported()["source"] == url
