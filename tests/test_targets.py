"""The target registry (plainres.targets): each target is declared once and everything else follows from it; a
target added in a test, and nowhere else, gets its rule, its place in `all`, its config checks and its claims
in the scorecard."""

import dataclasses
import importlib.util
import os
import re
import shutil
import sys
import textwrap
from pathlib import Path

import jsonschema
import pandas as pd
import pytest
import yaml
from conftest import REPO, run
from test_workflow import jobs_by_rule

from plainres import configuration, grid, published, scorecard, targets
from plainres.targets import TARGETS, Target

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


def test_every_function_a_target_names_exists():
    for t in TARGETS.values():
        for role in ("make", "claims", "summary"):
            if getattr(t, role):
                assert callable(t.function(role)), (t.name, role)
        assert (REPO / "workflow" / "scripts" / t.script_name()).exists(), t.name
        assert t.make is not None, t.name
        assert (t.summary is not None) == (t.published and t.kind == "figure"), t.name


def test_published_yaml_holds_exactly_the_published_targets():
    assert set(published.numbers()) == {t.name for t in TARGETS.values() if t.published}


def test_each_targets_settings_are_in_config_yaml_with_a_schema_and_each_entry_has_a_target():
    named = {t.settings for t in TARGETS.values() if t.settings}
    for t in TARGETS.values():
        if t.settings:
            section, name = t.settings.split(".")
            assert name in CONFIG[section] and t.schema["type"] == "object", t.name
            jsonschema.Draft202012Validator.check_schema(t.schema)
        else:
            assert t.schema is None, t.name
    for section in ("tables", "figures", "simulations"):
        assert {f"{section}.{name}" for name in CONFIG[section]} <= named, section
        assert "properties" not in SCHEMA["properties"][section], section  # the targets' own schemas, not the file's


def test_docs_targets_lists_every_target_with_the_papers_table_or_figure():
    page = (REPO / "docs" / "targets.md").read_text()
    sections = set(re.findall(r"^## (.+)$", page, re.M))
    for t in TARGETS.values():
        row = re.search(rf"^\| \[`{t.name}`\]\(#([\w-]+)\)[^|]* \| {re.escape(t.paper)} \|", page, re.M)
        assert row, t.name
        assert row.group(1) in {re.sub(r"[^\w\- ]", "", h).lower().replace(" ", "-") for h in sections}, t.name


# Each place "Adding a target" (docs/architecture.md) says a target touches, and the test here that demands it.
PLACES = {
    "src/plainres/targets.py": "test_every_function_a_target_names_exists",
    "its function": "test_every_function_a_target_names_exists",
    "its claims": "test_every_function_a_target_names_exists",
    "config.yaml": "test_each_targets_settings_are_in_config_yaml_with_a_schema_and_each_entry_has_a_target",
    "docs/targets.md": "test_docs_targets_lists_every_target_with_the_papers_table_or_figure",
    "published.yaml": "test_published_yaml_holds_exactly_the_published_targets",
}


def test_the_guide_lists_the_places_the_registry_tests_demand():
    guide = (REPO / "docs" / "architecture.md").read_text().split("## Adding a target")[1].split("\n## ")[0]
    rows = [line.split(" | ") for line in guide.splitlines() if line.startswith("| ") and "demanded by" not in line]
    listed = {}
    for cells in rows:
        place = re.match(r"\| (?:`([^`]+)`|(its \w+))", cells[0])
        listed[place.group(1) or place.group(2)] = cells[-1].strip(" |`")
    assert listed == PLACES
    here = (REPO / "tests" / "test_targets.py").read_text()
    assert all(re.search(rf"^def {test}\(", here, re.M) for test in PLACES.values())
    measurement = [cells[0] for cells in rows if cells[2].startswith("✓")]
    assert len(measurement) == 5  # a measurement target touches five places (published.yaml: where given)


def test_what_the_claims_weigh_is_a_file_some_target_writes():
    written = {f for t in TARGETS.values() for f in t.outputs().values()}
    for t in targets.scored():
        assert targets.weighed_files(t) and set(targets.weighed_files(t)) <= written, t.name
    assert targets.weighed_files(TARGETS["yt_table5"]) == [
        "results/measures/yt_table5/runs.csv",
        "results/measures/yt_table1/runs.csv",
    ]
    # a measured target names its runs apart; the tables' runs and the figures' curves carry their status
    assert set(targets.runs_files()) == {
        "yt_table3",
        "yt_cushion_full",
        "yt_fig3",
        "yt_fig6",
        "yt_fig7",
        "yt_fig10",
        "yt_fig12",
        "lw_appc",
    }


def test_a_target_is_declared_with_a_table_or_settings_and_a_known_kind():
    with pytest.raises(ValueError, match="`table` or `settings`"):
        Target("t", "T", "table", "runs", "caption")
    with pytest.raises(ValueError, match="kind 'plot'"):
        Target("t", "T", "plot", "runs", "caption", table={"experiments": [], "quantities": []})
    with pytest.raises(KeyError, match="no target 'yt_fig99'; the targets are yt_table1"):
        targets.get("yt_fig99")


# ---------------------------------------------------------------- a target added in a test, and nowhere else

# The whole addition: a table of Table 1's runs' test error, its claim, its registry entry. It enters every process
# of the pipeline (Snakemake, each job's script) through a sitecustomize module on PYTHONPATH.
EXTRA_TARGET = """
from plainres import targets
from plainres.evidence import paired, weighed
from plainres.scorecard.common import by_seed, finished


def claims_test_error(runs, spec=None):
    ok = finished(runs)
    return [
        weighed(
            "yt_test_error",
            "yt_test_error.E",
            f"residual test error below plain at depth {d}",
            paired(by_seed(ok, "E", net="plain", depth=d), by_seed(ok, "E", net="residual", depth=d)),
            "E(plain) − E(residual)",
        )
        for d in sorted(runs.depth.unique())
    ]


targets.TARGETS["yt_test_error"] = targets.Target(
    "yt_test_error",
    "a test target: Table 1's test error",
    "table",
    "runs",
    "Test error E of the Table 1 runs; mean ± sd over seeds (n).",
    table={"experiments": ["table1"], "quantities": ["E"]},
    make=targets.TABLE,
    claims="sitecustomize:claims_test_error",
)
"""


# A measurement: the norm of each Table 1 net's final weights, its figure, its per-seed file and its claim, with
# its settings (and their schema) given on the command line; no script of its own.
EXTRA_MEASUREMENT = """
import matplotlib.pyplot as plt
import pandas as pd

from plainres import targets
from plainres.collect import collect, split_diverged
from plainres.evidence import paired, weighed
from plainres.runfolder import RunFolder
from plainres.scorecard.common import by_seed
from plainres.targets import INTEGER, STRING, Made, entry


def yt_weight_norm(done, spec, images):
    runs = collect(done)
    runs = runs[runs.depth == spec["depth"]]
    norms = pd.DataFrame(
        [
            {"net": r.net, "depth": r.depth, "seed": r.seed, "status": r.status,
             "norm": sum(float(w.double().norm()) ** 2 for w in RunFolder(r.dir).net("final").parameters()) ** 0.5}
            for r in split_diverged(runs)[0].itertuples()
        ]
    )
    fig, ax = plt.subplots(layout="constrained")
    ax.bar(range(len(norms)), norms.norm)
    ax.set_ylabel("‖w‖ after training")
    return Made(read=runs, figure=(fig, norms), files={"samples": norms})


def claims_weight_norm(norms, spec):
    return [
        weighed(
            "yt_weight_norm",
            "yt_weight_norm.differs",
            "plain and residual weight norms differ",
            paired(by_seed(norms, "norm", net="plain"), by_seed(norms, "norm", net="residual")),
            "‖w‖(plain) − ‖w‖(residual)",
        )
    ]


targets.TARGETS["yt_weight_norm"] = targets.Target(
    "yt_weight_norm",
    "a test measurement: the Table 1 nets' weight norms",
    "figure",
    "nets",
    "The norm of each Table 1 net's final weights.",
    settings="figures.yt_weight_norm",
    schema=entry(experiment=STRING, depth=INTEGER),
    make="sitecustomize:yt_weight_norm",
    claims="sitecustomize:claims_weight_norm",
    weighs=("samples",),
    measured={"samples": "norms.csv"},
)
"""
MEASUREMENT_SETTINGS = "figures={yt_weight_norm: {experiment: table1, depth: 5}}"


def with_extra_target(folder: Path, code: str = EXTRA_TARGET) -> dict:
    """The environment of a process that sees a test target: sitecustomize.py in `folder`, first on the path."""
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(code))
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def job_inputs(dry_run: str, rule: str) -> list[str]:
    """The input files a dry run lists for the job of `rule`."""
    block = re.search(rf"^(?:local)?rule {rule}:\n(.*?)\n\n", dry_run, re.M | re.S).group(1)
    return re.search(r"^\s+input: (.*)$", block, re.M).group(1).split(", ")


@pytest.fixture
def extra_target(monkeypatch, tmp_path):
    """The test target registered in this process too, as sitecustomize would; gone after the test."""
    monkeypatch.setattr(targets, "TARGETS", {**TARGETS})
    with_extra_target(tmp_path)
    spec = importlib.util.spec_from_file_location("sitecustomize", tmp_path / "sitecustomize.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "sitecustomize", module)
    spec.loader.exec_module(module)


def test_an_added_target_gets_its_rule_its_place_in_all_and_the_scorecards_inputs(tmp_path):
    env = with_extra_target(tmp_path / "extra")
    smoke = ("--config", "scale=smoke", "data_source=synthetic", "--dry-run")
    planned = run(tmp_path, *smoke, "yt_test_error", env=env)
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
    assert jobs_by_rule(planned.stdout) == {"prepare_data": 1, "train": 8, "yt_test_error": 1}
    everything = run(tmp_path, *smoke, env=env)
    assert everything.returncode == 0, everything.stderr[-2000:]
    assert "results/tables/yt_test_error.md" in job_inputs(everything.stdout, "all")
    assert "results/measures/yt_test_error/runs.csv" in job_inputs(everything.stdout, "scorecard")
    without = run(tmp_path, *smoke)
    assert without.returncode == 0, without.stderr[-2000:]
    assert jobs_by_rule(without.stdout)["all"] == 1 and "yt_test_error" not in without.stdout


def test_an_added_target_is_checked_scored_and_rendered(extra_target):
    added = targets.get("yt_test_error")
    assert added in targets.scored() and added not in targets.published_tables()
    assert targets.weighed_files(added) == ["results/measures/yt_test_error/runs.csv"]
    config = configuration.resolve(CONFIG, {"scale": "smoke"})  # checked: the added target's experiment is there
    assert grid.target_experiments(config, added) == ["table1"]
    targets.TARGETS["yt_test_error"] = dataclasses.replace(added, table={**added.table, "experiments": ["table99"]})
    with pytest.raises(grid.ConfigError, match=r"yt_test_error \(plainres.targets\) reads experiments.table99"):
        configuration.check(config)
    runs = pd.DataFrame(
        [
            {"net": net, "depth": 5, "seed": s, "status": "finished", "E": e + 0.01 * s}
            for s in range(3)
            for net, e in (("plain", 0.5), ("residual", 0.4))
        ]
    )
    (row,) = scorecard.rows_of({"yt_test_error": runs}, {}, "paper", [], {})
    assert row.key == "yt_test_error.E" and row.verdict == "holds"
    page = scorecard.render({}, {}, {"yt_test_error": runs}, {}, "paper", "synthetic", [], {})
    assert "| yt_test_error | residual test error below plain at depth 5 | holds |" in page


def test_an_added_measurement_gets_its_rule_and_its_settings_are_checked(tmp_path):
    env = with_extra_target(tmp_path / "extra", EXTRA_MEASUREMENT)
    smoke = ("--config", "scale=smoke", "data_source=synthetic")
    planned = run(tmp_path, "--dry-run", "yt_weight_norm", *smoke, MEASUREMENT_SETTINGS, env=env)
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
    assert jobs_by_rule(planned.stdout) == {"prepare_data": 1, "train": 8, "yt_weight_norm": 1}
    without = run(tmp_path, "--dry-run", "yt_weight_norm", *smoke, env=env)  # its settings are required
    assert without.returncode != 0 and "'yt_weight_norm' is a required property" in without.stdout + without.stderr
    misspelt = run(tmp_path, "--dry-run", *smoke, "figures={yt_weight_norm: {experiment: table1, dept: 5}}", env=env)
    assert misspelt.returncode != 0 and "figures.yt_weight_norm: Additional properties" in misspelt.stdout


@pytest.mark.slow
def test_an_added_measurement_builds_beside_the_smoke_build_and_the_scorecard_weighs_it(smoke, tmp_path):
    """Only the new measurement, the scorecard (its inputs grew) and `all` run; its figure, per-seed file and claim."""
    workdir = tmp_path / "smoke"
    shutil.copytree(smoke, workdir, symlinks=True)
    env = with_extra_target(tmp_path / "extra", EXTRA_MEASUREMENT)
    built = run(workdir, "--config", "scale=smoke", MEASUREMENT_SETTINGS, env=env)
    assert built.returncode == 0, built.stderr[-3000:]
    assert jobs_by_rule(built.stderr) == {"yt_weight_norm": 1, "scorecard": 1, "all": 1}
    results = workdir / "results"
    assert (results / "figures" / "yt_weight_norm.png").stat().st_size > 0
    norms = pd.read_csv(results / "measures" / "yt_weight_norm" / "norms.csv", comment="#")
    assert len(norms) == 4 and (norms.norm > 0).all()  # plain and residual, 2 seeds, depth 5
    assert "| yt_weight_norm | plain and residual weight norms differ |" in (results / "scorecard.md").read_text()


@pytest.mark.slow
def test_an_added_target_builds_beside_the_smoke_build_and_the_scorecard_weighs_it(smoke, tmp_path):
    """Only the new target, the scorecard (its inputs grew) and `all` run; the new table and its claim are there."""
    workdir = tmp_path / "smoke"
    shutil.copytree(smoke, workdir, symlinks=True)
    built = run(workdir, "--config", "scale=smoke", env=with_extra_target(tmp_path / "extra"))
    assert built.returncode == 0, built.stderr[-3000:]
    assert jobs_by_rule(built.stderr) == {"yt_test_error": 1, "scorecard": 1, "all": 1}  # a real run logs to stderr
    summary = pd.read_csv(workdir / "results" / "tables" / "yt_test_error.csv", comment="#")
    assert set(summary.quantity) == {"E"} and summary["n"].min() == 2
    card = (workdir / "results" / "scorecard.md").read_text()
    assert "| yt_test_error | residual test error below plain at depth 5 |" in card
