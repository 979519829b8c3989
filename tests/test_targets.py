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

import pandas as pd
import pytest
import yaml
from conftest import REPO, run
from test_workflow import jobs_by_rule

from plainres import configuration, grid, published, scorecard, targets
from plainres.targets import TARGETS, Target

CONFIG = yaml.safe_load((REPO / "config.yaml").read_text())
SCHEMA = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())


def test_every_function_and_script_a_target_names_exists():
    for t in TARGETS.values():
        for role in ("make", "claims", "summary"):
            if getattr(t, role):
                assert callable(t.function(role)), (t.name, role)
        assert (REPO / "workflow" / "scripts" / t.script_name()).exists(), t.name
        assert t.make is not None, t.name
        assert (t.summary is not None) == (t.published and t.kind == "figure"), t.name


def test_published_yaml_holds_exactly_the_published_targets():
    assert set(published.numbers()) == {t.name for t in TARGETS.values() if t.published}


def test_each_targets_settings_are_in_config_yaml_and_the_schema_and_every_entry_belongs_to_a_target():
    named = {t.settings for t in TARGETS.values() if t.settings}
    for key in named:
        section, name = key.split(".")
        assert name in CONFIG[section] and name in SCHEMA["properties"][section]["properties"], key
    for section in ("tables", "figures", "simulations"):
        assert {f"{section}.{name}" for name in CONFIG[section]} <= named, section


def test_the_readme_lists_every_target_with_the_papers_table_or_figure():
    readme = (REPO / "README.md").read_text()
    for t in TARGETS.values():
        assert re.search(
            rf"^\| \[`{t.name}`\]\(docs/targets.md#[\w-]+\)[^|]* \| {re.escape(t.paper)} \|", readme, re.M
        ), t.name


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


def with_extra_target(folder: Path) -> dict:
    """The environment of a process that sees the test target: sitecustomize.py in `folder`, first on the path."""
    folder.mkdir(exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(EXTRA_TARGET))
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
