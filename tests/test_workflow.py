"""The pipeline as users run it: Snakemake, the config validated first, the smoke scale end to end."""

import itertools
import json
import os
import re
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import REPO, SHARED_DATA, SNAKEMAKE, copy_of_the_repository, image_folder, needs_make, run, tar_of
from PIL import Image

from plainres import bundle, scorecard
from plainres.collect import collect
from plainres.files import read_sealed_json, sealed_json
from plainres.targets import TARGETS


def test_synthetic_data_stage_builds_and_is_not_rebuilt(tmp_path):
    done = run(tmp_path, "data", "--config", "scale=smoke")
    assert done.returncode == 0, done.stderr
    (meta_path,) = (tmp_path / "results" / "data" / "cifar10").glob("synthetic-*.json")
    meta = read_sealed_json(meta_path)
    assert meta["source"]["kind"] == "synthetic" and meta["counts"] == {"train": 512, "test": 256}
    again = run(tmp_path, "data", "--config", "scale=smoke", "--dry-run")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_a_failing_data_source_loses_no_cache_and_going_back_reruns_no_training_job(tmp_path):
    good = tar_of(image_folder(tmp_path / "copy" / "cifar10-png", train=6, test=3), tmp_path / "good.tar.gz")
    (tmp_path / "empty.tar.gz").write_bytes(b"")
    (tmp_path / "no-images" / "README").parent.mkdir()
    (tmp_path / "no-images" / "README").write_text("no image folders here")
    no_images = tar_of(tmp_path / "no-images", tmp_path / "no-images.tar.gz")
    work = tmp_path / "work"
    group = "results/runs/table1/_groups/simplified-plain-d5-kwi-s0/done.json"  # one training job
    built = run(work, group, "--config", "scale=smoke", f"data_source={good}")
    assert built.returncode == 0, built.stderr[-3000:]
    cache = sorted((work / "results" / "data").rglob("*.*"))
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in cache}
    for bad, says in ((tmp_path / "empty.tar.gz", "not a readable tar archive"), (no_images, "no train/")):
        failed = run(work, group, "--config", "scale=smoke", f"data_source={bad}")
        assert failed.returncode != 0 and says in failed.stdout + failed.stderr, failed.stderr[-3000:]
        assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in cache} == before  # as it was, timestamps too
        assert sorted((work / "results" / "data").rglob("*.*")) == cache  # and nothing half-made beside it
    back = run(work, group, "--dry-run", "--config", "scale=smoke", f"data_source={good}")
    assert back.returncode == 0 and "Nothing to be done" in back.stdout + back.stderr, back.stdout[-3000:]


@pytest.mark.parametrize(
    "override,named",
    [
        ("datset=cifar10", "'datset' was unexpected"),
        ("dataset=cifar11", "'cifar11' is not one of"),
        ("train={lr: -0.1}", "-0.1 is less than or equal to the minimum of 0"),
        ("experiments={table1: {depths: [21]}}", "experiments.table1.depths: depth 21 is not 3N+2"),
        ("experiments={table1: {nets: [{net: plain, init: xavier}]}}", "'xavier' is not one of"),
        ("scale=huge", "'huge' is not one of"),
        ("scalee=smoke", "'scalee' was unexpected"),
        (
            "train={snapshot_epochs: [0, -2, -1, 99]}",
            "snapshot_epochs [0, -2, -1, 99]: a run of 4 epochs has epochs 0..4",
        ),
        ("train={snapshot_iterations: [1, 100000]}", "train.snapshot_iterations [100000]: the run takes"),
        ("train={train_subset: 100000}", "train.train_subset = 100000 is more than the 50000 train images of cifar10"),
        ("train={test_subset: 100000}", "train.test_subset = 100000 is more than the"),
        ("experiments={tabel1: {seeds: [0]}}", "experiments.tabel1: no such experiment; the experiments are table1,"),
    ],
)
def test_a_misspelt_key_or_bad_value_fails_before_any_job_naming_it(tmp_path, override, named):
    bad = run(tmp_path, "--dry-run", "--config", override)
    out = bad.stdout + bad.stderr
    assert bad.returncode != 0 and named in out, out[-2000:]
    assert any(named in line for line in out.splitlines()[:3]) and len(out.splitlines()) < 12, out[-2000:]  # first
    assert not (tmp_path / "results").exists()


def test_a_yaml_error_in_the_config_names_the_file_line_and_column(tmp_path):
    root = copy_of_the_repository(tmp_path / "repo")
    lines = (root / "config.yaml").read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("data_source:"))
    lines[at] = "data_source: official: too\n"
    (root / "config.yaml").write_text("".join(lines))
    done = subprocess.run(
        [*SNAKEMAKE[:-4], "--cores", "1", "--dry-run"], cwd=root, capture_output=True, text=True, timeout=300
    )
    out = done.stdout + done.stderr
    assert done.returncode != 0 and f"{root / 'config.yaml'}, line {at + 1}, column 22: mapping values" in out, out
    assert not (root / "results").exists()


@pytest.mark.parametrize("dry_run", [["--dry-run"], []])
def test_a_missing_source_fails_when_planning_in_one_line_and_builds_nothing(tmp_path, dry_run):
    done = run(tmp_path, "data", *dry_run, "--config", f"data_source={tmp_path / 'nowhere'}")
    # the first three lines, less the one naming the workflow's profile (profiles/default) that Snakemake prints first
    lines = (done.stdout + done.stderr).splitlines()
    first = [line for line in lines if not line.startswith("Using workflow specific profile")][:3]
    assert done.returncode != 0 and any(
        f"data_source: {tmp_path / 'nowhere'}: no such file or directory" in line for line in first
    ), first
    assert not (tmp_path / "results").exists()


def test_a_bad_source_fails_clearly_and_builds_nothing(tmp_path):
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    done = run(tmp_path, "data", "--config", f"data_source={tmp_path / 'junk.tar.gz'}")
    assert done.returncode != 0 and f"error: {tmp_path / 'junk.tar.gz'}: not a readable tar archive" in done.stderr
    assert not list((tmp_path / "results" / "data").rglob("*.pt"))


@needs_make
def test_every_make_command_of_the_readme_parses_and_plans_its_jobs(tmp_path):
    """Each `make run …` the README gives, as make runs it (the controller's command), planned as a dry run in a
    temporary directory; `make test` names pytest. A local data path the README leaves to the reader is a file."""
    readme = (REPO / "README.md").read_text()
    found = re.findall(r"make run(?: [A-Z]+=(?:\"[^\"]*\"|\S+?))*(?=`| *#|$)", readme, re.M)
    commands = sorted({c for c in found if "…" not in c})  # `make run CONFIG=scale=…` names no command
    assert {"make run", "make run TARGET=yt_fig9", "make run CONFIG=scale=laptop"} <= set(commands), commands
    local = tmp_path / "cifar-10-python.tar.gz"
    local.write_bytes(b"")
    # a bundle the README leaves to the reader: one that holds no training job, at its path, and where a URL's
    # download would be (so nothing is fetched)
    empty = tmp_path / "plainres-gpu.tar.gz"
    with tarfile.open(empty, "w:gz") as tar:
        tar.addfile(
            *bundle._member(
                bundle.MANIFEST, sealed_json({"format": bundle.FORMAT, "scale": "gpu", "groups": {}, "files": {}})
            )
        )
    commands += sorted(set(re.findall(r"make bundle CONFIG=\"[^\"]*\"", readme)))
    assert 'make bundle CONFIG="scale=gpu"' in commands and any("runs_source=zenodo:" in c for c in commands)
    for command in commands:
        words = [w.replace("/path/to/cifar-10-python.tar.gz", str(local)) for w in shlex.split(command)[1:]]
        words = [w.replace("/path/to/plainres-gpu.tar.gz", str(empty)) for w in words]
        for word in words:
            if (url := bundle.source_url(word.rpartition("runs_source=")[2] or "-")) is not None:
                (tmp_path / "work" / bundle.local_download(url)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(empty, tmp_path / "work" / bundle.local_download(url))
        printed = subprocess.run(["make", "-n", *words], cwd=REPO, capture_output=True, text=True, check=True)
        (controller,) = [
            line for line in printed.stdout.splitlines() if re.search("plainres.controller (run|bundle)", line)
        ]
        planned = subprocess.run(
            controller.replace(" --config", f" --dry-run --directory {tmp_path / 'work'} --config"),
            shell=True,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert planned.returncode == 0, command + planned.stdout[-2000:] + planned.stderr[-2000:]
        assert jobs_by_rule(planned.stdout), command
    tested = subprocess.run(["make", "-n", "test"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "-m pytest" in tested.stdout


def jobs_by_rule(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run: rule → job count."""
    stats = output.split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", stats, re.M) if m.group(1) != "total"}


TABLE_TARGETS = [t.name for t in TARGETS.values() if t.kind == "table"]
FIGURE_TARGETS = [t.name for t in TARGETS.values() if t.kind == "figure" and t.source != "simulation"]
SIMULATION_TARGETS = [t.name for t in TARGETS.values() if t.source == "simulation" and t.claims]
DIAGRAMS = [t.name for t in TARGETS.values() if t.source == "simulation" and not t.claims]  # no claim to score
BY_QUANTITY = ("yt_table3", "yt_cushion_full")  # tables with a row per quantity; one seed for the cushion


@pytest.mark.slow
def test_smoke_scale_builds_every_target_and_each_output_parses(smoke):
    results = smoke / "results"
    for target in TABLE_TARGETS:
        summary = pd.read_csv(results / "tables" / f"{target}.csv", comment="#")
        assert len(summary) and summary["n"].min() == (1 if target == "yt_cushion_full" else 2)
        assert summary["mean"].notna().all()
        md = (results / "tables" / f"{target}.md").read_text()
        assert md.startswith("| quantity |" if target in BY_QUANTITY else "| depth |") and "scale: smoke" in md
        assert r"\end{tabular}" in (results / "tables" / f"{target}.tex").read_text()
    for target in (*FIGURE_TARGETS, *SIMULATION_TARGETS, *DIAGRAMS):
        with Image.open(results / "figures" / f"{target}.png") as png:
            png.verify()
            assert max(png.size) > 900 and "scale: smoke" in png.info["Description"]  # diagrams are tall
        pdf = (results / "figures" / f"{target}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
        data = pd.read_csv(results / "figures" / f"{target}.csv", comment="#")
        assert len(data) and data.notna().any(axis=None)
    per_run = pd.read_csv(results / "measures" / "yt_table3" / "weights.csv", comment="#")
    assert sorted(per_run.vector.unique()) == ["p_0", "p_end", "t_0", "t_end"] and len(per_run) == 8
    cushion = pd.read_csv(results / "measures" / "yt_fig3" / "cushion.csv", comment="#")
    assert len(cushion) == 2 * 2 * 2 * 512 and (cushion.mu > 0).all()  # nets × depths 5, 8 × seeds × images
    assert set(cushion.seed) == {0, 1}
    sigma = pd.read_csv(results / "measures" / "yt_fig12" / "sigma.csv", comment="#")
    assert len(sigma) == 2 * 2 * 2 * 7 and sigma.sigma.between(0, 1).all()  # archs × nets × stages × layers 1..7
    assert set(sigma.snapshot) == {"iter_1", "epoch_1"}  # smoke trains 2 epochs: the last starts after epoch 1
    full = pd.read_csv(results / "measures" / "yt_cushion_full" / "cushion.csv", comment="#")
    assert len(full) == 2 * 64 and (full.mu > 0).all() and (full.se > 0).all()  # (plain, residual) × 64 images
    norms = pd.read_csv(results / "measures" / "lw_appc" / "norms.csv", comment="#")
    assert len(norms) == 2 * 3 * 7 and set(norms.dataset) == {"cifar10", "cifar100"}  # datasets × epochs 0..2 × convs
    fig10 = pd.read_csv(results / "figures" / "yt_fig10.csv", comment="#")
    assert fig10["count"].sum() == fig10.n.iloc[0] == 2 * 512 * 64  # 2 epochs × 512 images × 64 activations
    fig6 = pd.read_csv(results / "figures" / "yt_fig6.csv", comment="#")
    assert set(fig6.seed) == {0, 1} and fig6.abs_diff.max() < 1e-12  # float64 pair, 2 epochs
    card = (results / "scorecard.md").read_text()
    assert "## Claims" in card and re.search(r"\| (holds|not testable) \|", card)
    assert "| fails |" not in card  # a claim the smoke scale is too small for reads below scale (LW Fig 1(d))
    mlp_rows = [line for line in card.splitlines() if line.startswith(("| lw_fig1_d |", "| lw_fig1_e |"))]
    assert len(mlp_rows) == 4 and all("| below scale (shows from `quick`) |" in row for row in mlp_rows), mlp_rows
    for target in (*TABLE_TARGETS, *FIGURE_TARGETS, *SIMULATION_TARGETS):
        assert f"| {target} |" in card, target
    run_dirs = [d for d in (results / "runs").glob("*/*") if d.name != "_groups"]
    assert len(run_dirs) == 8 + 4 + 4 + 2 + 4 + 4 + 1 + 2 + 2  # Fig 9's KWI nets are Table 1's plain nets
    for run_dir in run_dirs:
        assert (run_dir / "final.pt").exists() and (run_dir / "metrics.csv").exists()
    table2 = json.loads(next((results / "runs" / "table2").glob("simplified-plain-*/config.json")).read_text())
    assert table2["train"]["dtype"] == "float64" and table2["train"]["decay_on_T_inverse"] is True


@pytest.mark.slow
def test_a_change_reruns_only_the_jobs_it_touches(smoke):
    assert "Nothing to be done" in run(smoke, "--config", "scale=smoke", "--dry-run").stdout
    # one cell's lr changes: its two seed jobs re-run, and what reads them, nothing else; Fig 9, which read those
    # runs as its own KWI nets, now trains its own two (the recipe it asks for) and is re-drawn
    change = "experiments={table1: {cells: [{net: plain, depth: 8, train: {lr: 0.02}}]}}"
    dry = run(smoke, "--config", "scale=smoke", change, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert jobs_by_rule(dry.stdout) == {
        "all": 1,
        "scorecard": 1,
        "train": 4,
        "yt_table1": 1,
        "yt_table3": 1,
        "yt_fig3": 1,
        "yt_fig7": 1,
        "yt_table4": 1,
        "yt_fig12": 1,
        "yt_fig9": 1,
    }
    retrained = set(re.findall(r"wildcards: experiment=(\S+), group=(\S+)", dry.stdout))
    assert retrained == {(e, f"simplified-plain-d8-kwi-s{s}") for e in ("table1", "fig9") for s in (0, 1)}
    # a figure's own setting re-draws that figure (and the scorecard that reads it), trains nothing
    dry = run(smoke, "--config", "scale=smoke", "figures={yt_fig9: {left_depths: [8]}}", "--dry-run")
    assert jobs_by_rule(dry.stdout) == {"all": 1, "scorecard": 1, "yt_fig9": 1}
    # one figure alone, as a target: yt_fig8 is yt_fig2
    assert "Nothing to be done" in run(smoke, "yt_fig8", "--config", "scale=smoke", "--dry-run").stdout


def screenshot(html: Path, png: Path, profile: Path):
    """Headless Chromium, as the machine's notes prescribe (no background networking, fresh profile)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium)")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1400,1000",
            "--virtual-time-budget=10000",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )


@pytest.mark.slow
def test_the_html_report_holds_every_result_and_renders_in_a_browser(smoke, tmp_path):
    report = smoke / "results" / "report.html"
    made = run(smoke, "--config", "scale=smoke", "--report", str(report))
    assert made.returncode == 0, made.stderr[-2000:]
    # docutils' complaints about a caption ("<string>:3: (WARNING/2) Inline literal …") reach stderr only
    assert not re.findall(r"\((?:WARNING|ERROR|SEVERE)/\d\)", made.stderr), made.stderr[-2000:]
    html = report.read_text()
    for target in (*TABLE_TARGETS, *FIGURE_TARGETS, *SIMULATION_TARGETS, *DIAGRAMS, "scorecard"):
        assert f"{target}." in html, target
    assert "Scale <strong>smoke</strong>, data source" in html and "YT Fig 6: the equivalent pair" in html
    screenshot(report, tmp_path / "report.png", tmp_path / "profile")
    with Image.open(tmp_path / "report.png") as shot:
        grey = shot.convert("L")
        inked = sum(grey.histogram()[:200]) / (grey.width * grey.height)
        colours = len(shot.convert("RGB").getcolors(maxcolors=1 << 20) or [])
    assert inked > 0.005 and colours > 50, (inked, colours)  # text and the workflow graph, not a blank page


@pytest.mark.slow
def test_the_scale_study_builds_with_its_measured_claims(smoke):
    """`scale_study` at smoke scale (after the report, so that it reads the smoke build as `all` left it): every
    setting trained, each measured claim measured at every snapshot epoch and weighed against SGD steps."""
    made = run(smoke, "--config", "scale=smoke", "--", "scale_study")
    assert made.returncode == 0, made.stderr[-3000:]
    results = smoke / "results"
    measured = pd.read_csv(results / "measures" / "scale_study" / "measured.csv", comment="#")
    at = measured[measured.setting == "smoke-measured"].groupby("measure").epoch.unique().map(sorted).to_dict()
    assert at == {"yt_fig3": [1, 2, 3], "yt_cushion_full": [1, 2, 3], "yt_fig12": [0, 1, 2], "lw_appc": [0, 1, 2, 3]}
    effects = pd.read_csv(results / "figures" / "scale_study.csv", comment="#")
    assert {
        "yt_table1.L",
        "yt_fig9.gap_widens",
        "yt_fig3.cushion",
        "yt_fig12.simplified_above",
        "yt_fig12.full_deep_above",
        "yt_cushion_full.above",
        "lw_appc.grows",
    } <= set(effects.key)
    assert effects.n.max() == 3 and effects.steps.min() == 16  # 512 images in minibatches of 32
    summary = pd.read_csv(results / "tables" / "scale_study.csv", comment="#")
    assert set(summary.setting) == {"smoke", "smoke-measured"} and set(summary.key) == set(effects.key)
    with Image.open(results / "figures" / "scale_study.png") as png:
        png.verify()


def test_a_sites_partition_account_runtime_memory_and_threads_reach_the_training_job(tmp_path):
    """config.yaml `resources.train` → the train rule's resources, which the slurm plugin turns into sbatch flags
    (slurm_partition → --partition, slurm_account → --account); null partition and account are left out."""
    target = "results/runs/fig10/_groups/simplified-residual-d5-hmwi-s0/done.json"

    def train_job(*config):
        out = run(tmp_path, "-n", target, "--config", "scale=smoke", *config)
        assert out.returncode == 0, out.stderr[-2000:]
        job = out.stdout[out.stdout.index("rule train:") :].split("\n\n")[0]
        threads = re.search(r"threads: (\d+)", job)  # Snakemake prints no line for one thread
        threads = int(threads.group(1)) if threads else 1
        resources = dict(kv.split("=", 1) for kv in re.search(r"resources: (.*)", job).group(1).split(", "))
        return threads, resources

    threads, resources = train_job(
        "resources={train: {partition: gpu, account: proj, runtime: 45, mem_mb: 1234, threads: 2}}"
    )
    assert threads == 2
    assert {k: resources[k] for k in ("slurm_partition", "slurm_account", "runtime", "mem_mb")} == {
        "slurm_partition": "gpu",
        "slurm_account": "proj",
        "runtime": "45",
        "mem_mb": "1234",
    }
    threads, defaults = train_job()
    assert "slurm_partition" not in defaults and "slurm_account" not in defaults
    assert threads == 1  # a CPU job: one thread, one job per core (docs/pipeline.md, Jobs)


def test_a_training_job_on_a_gpu_asks_for_one_gpu_and_what_its_compile_takes(tmp_path):
    """device: cuda, or auto where the planning machine shows a GPU (torch.cuda mocked), gives each training job
    gpu=1, so that `--resources gpu=N` runs N at once, and resources.train's gpu_threads and gpu_mem_mb."""
    target = "results/runs/fig10/_groups/simplified-residual-d5-hmwi-s0/done.json"
    mocked = tmp_path / "mocked"
    mocked.mkdir()
    (mocked / "sitecustomize.py").write_text(
        "import torch\ntorch.cuda.is_available = lambda: True\ntorch.cuda.device_count = lambda: 1\n"
    )
    sees_a_gpu = {**os.environ, "PYTHONPATH": os.pathsep.join([str(mocked), os.environ.get("PYTHONPATH", "")])}
    site = "resources={train: {threads: 2, gpu_threads: 12, gpu_mem_mb: 24000}}"
    for config, env, gpu in (
        ("device=cpu", None, "0"),
        ("device=cuda", None, "1"),
        ("device=auto", None, "0"),
        ("device=auto", sees_a_gpu, "1"),
    ):
        out = subprocess.run(
            [
                *SNAKEMAKE[:-1],
                "16",
                "--directory",
                str(tmp_path),
                "-n",
                target,
                "--config",
                "scale=smoke",
                site,
                config,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        job = out.stdout[out.stdout.index("rule train:") :].split("\n\n")[0]
        resources = dict(kv.split("=", 1) for kv in re.search(r"resources: (.*)", job).group(1).split(", "))
        threads = re.search(r"threads: (\d+)", job).group(1)
        assert (resources["gpu"], resources["mem_mb"], threads) == (
            (gpu, "24000", "12") if gpu == "1" else (gpu, "2000", "2")
        ), (config, job)


DIVERGING = "train={lr: 50}"  # a rate at which some smoke runs diverge and most do not


@pytest.mark.slow
def test_diverged_runs_are_results_every_target_and_the_report_build(tmp_path):
    """A diverged run is a result, never a crash: `all` and the report build; the diverged runs are left out of the
    means, counted in the captions and named in the scorecard, where a claim whose runs all diverged is not testable."""
    made = run(tmp_path, "--config", "scale=smoke", DIVERGING)
    assert made.returncode == 0, made.stderr[-3000:]
    results = tmp_path / "results"
    report = results / "report.html"
    made = run(tmp_path, "--config", "scale=smoke", DIVERGING, "--report", str(report))
    assert made.returncode == 0 and report.exists(), made.stderr[-2000:]
    entries = [
        (Path(e["dir"]).parent.name, e)
        for done in (results / "runs").glob("*/_groups/*/done.json")
        for e in json.loads(done.read_text())["runs"]
    ]
    diverged = {e["run_id"] for _, e in entries if e["status"] == "diverged"}
    assert 0 < len(diverged) < len(entries), f"{len(diverged)} of {len(entries)} runs diverged: pick another lr"
    card = (results / "scorecard.md").read_text()
    named = {
        run_id
        for names in re.findall(r"diverged run\(s\) left out: ([^|;]+)", card)
        for run_id in names.strip().split(", ")
    }
    assert diverged <= named, diverged - named
    table1 = {e["run_id"]: e["status"] for experiment, e in entries if experiment == "table1"}
    gone = [  # the Table 1 cells whose runs all diverged
        (net, depth)
        for net, depth in itertools.product(("plain", "residual"), (5, 8))
        if {status for run_id, status in table1.items() if f"-{net}-d{depth}-" in run_id} == {"diverged"}
    ]
    assert gone, "no Table 1 cell diverged in all its runs: pick another lr"
    for net, depth in gone:
        claim = rf"below plain at depth {depth} \(Table 1[^|]*\| not testable \|[^|]*\|[^|]*-{net}-d{depth}-"
        assert re.search(claim, card), (net, depth)
    captions = {
        t: (results / "figures" / f"{t}.csv").read_text().splitlines()[0]
        for t in (*FIGURE_TARGETS, *SIMULATION_TARGETS, *DIAGRAMS)
    }
    assert any("Diverged and left out" in caption for caption in captions.values())
    for target, caption in captions.items():
        with Image.open(results / "figures" / f"{target}.png") as png:
            assert caption[2:] in png.info["Description"], target  # the caption, with its count, in the figure too
    for target in TABLE_TARGETS:
        assert (results / "tables" / f"{target}.md").exists(), target
    for target in (*TABLE_TARGETS, *FIGURE_TARGETS, "scorecard"):
        assert f"{target}." in report.read_text(), target


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.exists(), reason=f"offline CIFAR-10 copy not found at {SHARED_DATA}")
def test_table1s_laptop_verdicts_at_depth_20_hold_on_three_other_seeds(tmp_path, monkeypatch):
    """Table 1's depth-20 pair trained as the laptop scale trains it, on seeds 100–102 (seed_offset) instead of
    0–2, reads L and E as the laptop's seeds read them: residual below plain beyond 2 se (holds)."""
    nets = (("plain", "kwi"), ("residual", "hmwi"))
    groups = [
        f"results/runs/table1/_groups/simplified-{n}-d20-{i}-s{s}/done.json" for n, i in nets for s in (100, 101, 102)
    ]
    done = run(tmp_path, *groups, "--config", "scale=laptop", f"data_source={SHARED_DATA}", "seed_offset=100")
    assert done.returncode == 0, done.stderr[-3000:]
    monkeypatch.chdir(tmp_path)  # done.json names its runs' folders from the workflow's directory
    runs = collect([Path(g) for g in groups])
    assert sorted(runs.seed) == [100, 100, 101, 101, 102, 102] and (runs.status == "finished").all()
    rows = {row.key: row for row in scorecard.claims_table1(runs)}
    for key in ("yt_table1.L", "yt_table1.E"):
        assert rows[key].verdict == "holds", (key, rows[key].effect.text(), rows[key].detail)
