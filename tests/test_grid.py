"""From config.yaml to jobs: scale patches, precedence, checks that name the key, seed groups."""

import re
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, run

from plainres.collect import first_seeds, nth_seed
from plainres.configuration import is_study, resolve, validate
from plainres.grid import (
    ConfigError,
    available_experiments,
    dataset_source,
    deep_merge,
    experiment_groups,
    experiment_runs,
    target_experiments,
    training_jobs,
)
from plainres.targets import TARGETS

BASE = yaml.safe_load((REPO / "config.yaml").read_text())


def test_deep_merge_replaces_lists_and_merges_dicts():
    a = {"x": {"y": 1, "z": [1, 2]}, "w": 3}
    assert deep_merge(a, {"x": {"z": [3]}}) == {"x": {"y": 1, "z": [3]}, "w": 3}
    assert a["x"]["z"] == [1, 2]  # the base is not modified


def test_every_scale_resolves_and_the_command_line_wins_over_the_scale():
    for scale in ("paper", "gpu", "laptop", "quick", "smoke"):
        assert resolve(BASE, {"scale": scale})["scale"] == scale
    paper = resolve(BASE, {"scale": "paper"})
    assert paper["experiments"]["table1"]["depths"] == [20, 32, 44] and paper["train"]["epochs"] == 200
    quick = resolve(BASE, {"scale": "quick"})
    assert quick["train"]["epochs"] < 200 and quick["train"]["lr"] == 0.01
    mine = resolve(BASE, {"scale": "quick", "train": {"epochs": 7}})
    assert mine["train"]["epochs"] == 7 and mine["train"]["train_subset"] == quick["train"]["train_subset"]


def test_nested_command_line_strings_are_typed_like_yaml():
    config = resolve(
        BASE,
        {
            "scale": "paper",
            "train": {"lr": "0.02", "flip": "false", "train_subset": "null"},
            "data_source": "../shared/data/x.tar.gz",
        },
    )
    assert config["train"]["lr"] == 0.02 and config["train"]["flip"] is False
    assert config["train"]["train_subset"] is None and config["data_source"] == "../shared/data/x.tar.gz"


@pytest.mark.parametrize(
    "override,named",
    [
        ({"scale": "huge"}, "scale: 'huge'"),
        ({"experiments": {"table1": {"depths": [20, 21]}}}, "experiments.table1.depths: depth 21 is not 3N+2"),
        (
            {"experiments": {"table1": {"nets": [{"net": "plain", "init": "xavier"}]}}},
            "experiments.table1.nets[0].init",
        ),
        ({"train": {"lr": -0.1}}, "train: lr must be > 0"),
        ({"experiments": {"table1": {"train": {"lrr": 0.1}}}}, "unknown train key 'lrr'"),
        (
            {"figures": {"yt_fig6": {"depth": 26}}},
            "figures.yt_fig6.depth: depth 26 is not among experiments.table2.depths",
        ),
        ({"figures": {"yt_fig9": {"left_depths": [32, 56]}}}, "figures.yt_fig9.left_depths: depth 56"),
        ({"figures": {"yt_fig2": {"experiment": "fig99"}}}, "figures.yt_fig2.experiment: no experiment 'fig99'"),
        (
            {"experiments": {"table2": {"train": {"log_iterations": False}}}},
            "experiments.table2 must set train.log_iterations",
        ),
        (
            {"figures": {"yt_fig3": {"layer": 20}}},
            "figures.yt_fig3.layer: a depth-20 net has conv layers 1..19, not 20",
        ),
        ({"figures": {"yt_fig7": {"seed": 3}}}, "figures.yt_fig7.seed: seed 3 is not trained"),
        (
            {"experiments": {"fig10": {"train": {"capture_final_grad_epochs": 0}}}},
            "figures.yt_fig10: experiments.fig10 must set train.capture_final_grad_epochs",
        ),
        (
            {"figures": {"yt_fig12": {"panels": {"simplified": {"experiment": "full"}}}}},
            "figures.yt_fig12.panels.simplified.experiment: experiments.full trains fully-fledged nets, not simplified",
        ),
        (
            {"figures": {"yt_fig12": {"panels": {"simplified": {"ratio_layers": [1, 20]}}}}},
            "figures.yt_fig12.panels.simplified.ratio_layers: a depth-20 net has layers 1..19",
        ),
        ({"figures": {"yt_fig12": {"seeds": 4}}}, "figures.yt_fig12.seeds.seed: seed 3 is not trained"),
        (
            {"experiments": {"full": {"train": {"snapshot_iterations": []}}}},
            "figures.yt_fig12.panels.fully-fledged: experiments.full must set train.snapshot_iterations ∋ 1",
        ),
        (
            {"tables": {"yt_cushion_full": {"block": 10}}},
            "tables.yt_cushion_full.block: a depth-20 fully-fledged net has blocks 1..9, not 10",
        ),
        (
            {"tables": {"yt_cushion_full": {"experiment": "table1"}}},
            "tables.yt_cushion_full.experiment: experiments.table1 trains simplified nets, not fully-fledged",
        ),
        (
            {"experiments": {"appc": {"train": {"snapshot_every": 0}}}},
            "figures.lw_appc.experiments: experiments.appc must set train.snapshot_every ≥ 1",
        ),
        (
            {"figures": {"lw_appc": {"experiments": ["appc", "table1"]}}},
            "figures.lw_appc.experiments.experiment: experiments.table1 trains simplified nets, not fully-fledged",
        ),
        ({"figures": {"lw_appc": {"depth": 20}}}, "figures.lw_appc.experiments.depth: depth 20 is not among"),
        (
            {"data_source": "/some/cifar-10-copy.tar.gz", "figures": {"lw_appc": {"experiments": ["appc_cifar100"]}}},
            "figures.lw_appc.experiments: no dataset of ['appc_cifar100'] has a source",
        ),
        (
            {"scale_study": {"settings": [{"name": "tiny", "reads": ["table1"], "depths": [8], "train": {}}]}},
            "scale_study.settings (tiny).depths: Fig 3 measures layer 10 (figures.yt_fig3.layer)",
        ),
        (
            {"scale_study": {"settings": [{"name": "tiny", "reads": ["full"], "depths": [8], "train": {}}]}},
            "scale_study.settings (tiny).depths: the interlayer cushion measures block 5",
        ),
        ({"simulations": {"yt_fig4": {"depth": 21}}}, "simulations.yt_fig4.depth: depth 21 is not 3N+2"),
        ({"simulations": {"yt_fig5": {"depth": 17}}}, "simulations.yt_fig5.depth: depth 17 is not 6n+2"),
        ({"simulations": {"yt_fig5": {"block": 9}}}, "simulations.yt_fig5.block: the nets have blocks 0..8, not 9"),
        (
            {"simulations": {"yt_fig11": {"sweeps": {"l": [1, 10]}}}},
            "simulations.yt_fig11.sweeps.l: layer l = 10 is not in 1..L−1 = 1..9",
        ),
        ({"simulations": {"yt_fig11": {"sweeps": {"p": [0.5, 1.5]}}}}, "simulations.yt_fig11.sweeps.p: 1.5"),
    ],
)
def test_semantic_errors_name_the_key(override, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        resolve(BASE, {"scale": "paper", **override})


def test_paper_table1_grid_and_its_learning_rate_exception():
    config = resolve(BASE, {"scale": "paper"})
    runs = experiment_runs(config, "table1")
    assert len(runs) == 2 * 3 * 3
    lrs = {(r.net, r.depth): cfg.lr for r, cfg in runs}
    assert lrs[("plain", 44)] == 0.001 and lrs[("plain", 32)] == 0.01 and lrs[("residual", 44)] == 0.01
    assert {r.init for r, _ in runs if r.net == "plain"} == {"kwi"}
    assert {r.init for r, _ in runs if r.net == "residual"} == {"hmwi"}


def test_fig9_cells_match_on_init_so_only_the_kwi_plain_net_at_44_gets_the_small_lr():
    runs = experiment_runs(resolve(BASE, {"scale": "paper"}), "fig9")
    assert len(runs) == 60
    lrs = {(r.init, r.depth): cfg.lr for r, cfg in runs}
    assert lrs[("kwi", 44)] == 0.001 and lrs[("t-hmwi", 44)] == 0.01 and lrs[("kwi", 32)] == 0.01
    assert all(cfg.decay_on_T_inverse == (r.init == "t-hmwi") for r, cfg in runs)


@pytest.mark.parametrize("size,jobs", [(1, 18), (2, 12), (3, 6), (16, 6)])
def test_seeds_are_cut_into_groups_of_at_most_group_size(size, jobs):
    config = resolve(BASE, {"scale": "paper", "group_size": size})
    groups = experiment_groups(config, "table1")
    assert len(groups) == jobs
    assert sum(len(g.runs) for g in groups) == 18
    assert len({g.group_id for g in groups}) == jobs
    for g in groups:
        assert len({(r.net, r.depth, r.init) for r in g.runs}) == 1 and len(g.runs) <= size
    if size == 1:
        assert groups[0].group_id == groups[0].runs[0].run_id == "simplified-plain-d20-kwi-s0"
    if size == 3:
        assert groups[0].group_id == "simplified-plain-d20-kwi-s0-2"
        assert Path(groups[0].run_dirs()[1]).name == "simplified-plain-d20-kwi-s1"


def test_a_group_another_experiment_trains_already_is_trained_once():
    """Fig 9's KWI nets are Table 1's plain nets (same recipe, seeds, data): Fig 9 reads Table 1's runs of
    seeds 0–2 and trains its own other seeds and its t₀ = T(r₀) nets."""
    config = resolve(BASE, {"scale": "paper"})
    jobs = training_jobs(config)
    fig9 = {(g.runs[0].init, g.runs[0].depth, g.runs[0].seed): g.experiment for g in jobs["fig9"]}
    assert {fig9["kwi", d, s] for d in (20, 32, 44) for s in range(3)} == {"table1"}
    assert {fig9["kwi", d, s] for d in (20, 32, 44) for s in range(3, 10)} == {"fig9"}
    assert {e for (init, _, _), e in fig9.items() if init == "t-hmwi"} == {"fig9"}
    assert all(g.experiment == "table1" for g in jobs["table1"])
    # a different recipe is a different job: fig2's depth-20 nets train 1200 epochs
    assert all(g.experiment == "fig2" for g in jobs["fig2"])
    changed = resolve(BASE, {"scale": "paper", "experiments": {"fig9": {"train": {"lr": 0.02}}}})
    owners = {g.experiment for g in training_jobs(changed)["fig9"] if (g.runs[0].init, g.runs[0].depth) != ("kwi", 44)}
    assert owners == {"fig9"}  # but the KWI depth-44 cell, whose own lr of 0.001 both experiments set


def test_seed_offset_shifts_every_experiments_seeds_and_the_targets_read_the_first_of_them():
    config = resolve(BASE, {"scale": "laptop", "seed_offset": 100})
    seeds = {run.seed for name in config["experiments"] for run, _ in experiment_runs(config, name)}
    assert min(seeds) == 100 and 0 not in seeds
    groups = experiment_groups(config, "table1")
    assert groups[0].group_id == "simplified-plain-d20-kwi-s100" and len(groups) == 2 * 3 * 3
    assert {run.seed for g in groups for run in g.runs} == {100, 101, 102}
    assert TARGETS["lw_fig1_d"].spec(config)["seed_offset"] == 100
    runs = pd.DataFrame({"seed": [102, 100, 101, 100, 103]})
    assert first_seeds(runs, 2).tolist() == [False, True, True, True, False]
    assert nth_seed(runs, 0).tolist() == [False, True, False, True, False]
    assert not nth_seed(runs, 9).any()
    with pytest.raises(ConfigError, match="seed_offset: -1 is less than the minimum of 0"):
        validate(resolve(BASE, {"scale": "laptop", "seed_offset": -1}), REPO / "workflow/schemas/config.schema.yaml")


def test_bf16_with_a_float64_experiment_is_refused_naming_the_cell():
    with pytest.raises(ConfigError, match=r"experiments\.table2 \(plain, depth 20\): .*bf16 autocast and float64"):
        resolve(BASE, {"scale": "paper", "train": {"bf16": True}})


@pytest.mark.parametrize(
    "source,extra,expected",
    [
        ("official", {}, "official"),  # the official archives hold both datasets
        ("synthetic", {}, "synthetic"),
        ("/copy/cifar10.tar.gz", {}, None),  # a local CIFAR-10 copy holds no CIFAR-100
        ("/copy/cifar10.tar.gz", {"cifar100": "/copy/cifar100.tar.gz"}, "/copy/cifar100.tar.gz"),
    ],
)
def test_an_experiment_on_another_dataset_runs_only_where_a_source_holds_it(source, extra, expected):
    config = resolve(BASE, {"scale": "paper", "data_source": source, "data_sources": extra})
    assert dataset_source(config, "cifar10") == source
    assert dataset_source(config, "cifar100") == expected
    wanted = ["appc", "appc_cifar100"]
    assert available_experiments(config, wanted) == (wanted if expected else ["appc"])


def test_the_scale_study_trains_each_settings_own_reads_and_measures_what_the_targets_read():
    from plainres.configuration import study_measures, study_specs

    config = resolve(BASE, {"scale": "paper"})
    study = {n for n in config["experiments"] if n.startswith("study_")}
    assert {
        "study_1k-256steps_table1",
        "study_1k-256steps_fig9",
        "study_1k-256steps_table5",
        "study_measured-1k_table1",
        "study_full-1k_full",
        "study_full-1k_appc",
    } == study
    full = config["experiments"]["study_full-1k_full"]
    assert full["depths"] == [20] and full["seeds"] == 3 and full["arch"] == "fully-fledged"
    assert full["train"] == {
        **BASE["experiments"]["full"]["train"],
        "train_subset": 1000,
        "test_subset": 500,
        "epochs": 24,
        "milestones": [12, 18],
        "snapshot_every": 3,
        "eval_every": 1,
    }
    assert study_measures(study_specs(config)) == {
        "table1": ["yt_fig3", "yt_fig12"],
        "full": ["yt_cushion_full", "yt_fig12"],
        "appc": ["lw_appc"],
        "appc_cifar100": ["lw_appc"],
    }


def trained(config: dict, name: str) -> dict:
    """An experiment's runs, each with its train config but for the evaluation cadence, which trains nothing."""
    return {r: replace(cfg, eval_every=1) for r, cfg in experiment_runs(config, name)}


def test_the_gpu_scale_trains_tables_1_and_5_at_every_depth_with_the_papers_recipe_on_the_full_data():
    gpu, paper = resolve(BASE, {"scale": "gpu"}), resolve(BASE, {"scale": "paper"})
    assert gpu["device"] == "cuda" and gpu["group_size"] == 16
    for name in ("table1", "table5", "table5_full_lower"):
        assert trained(gpu, name) == trained(paper, name)  # every net, depth, cell and seed as in paper
        recipes = {(c.epochs, tuple(c.milestones), c.train_subset, c.test_subset) for c in trained(gpu, name).values()}
        assert recipes == {(200, (120, 160), None, None)}
        # a configuration's seeds, at least the 3 a verdict weighs, train together in one group
        seeds = gpu["experiments"][name]["seeds"]
        assert seeds >= 3 and all(len(g.runs) == seeds for g in experiment_groups(gpu, name))
    # Figs 2/8 read Table 1's depth-20 runs, 200 epochs: no training of their own
    assert {g.experiment for g in training_jobs(gpu)["fig2"]} == {"table1"}


def test_a_claim_shows_from_gpu_only_where_the_gpu_scale_trains_what_it_reads_as_the_paper_scale_does():
    """A claim that needs the paper's training length reads `shows from gpu` only where every run the gpu scale trains
    for its target is one the paper scale trains, on the same recipe and data (fewer seeds or depths, not fewer
    epochs or images); and the ladder ranks gpu, by training length, between laptop and paper."""
    ladder = BASE["claims"]["ladder"]
    assert set(ladder) == set(BASE["scales"]) and ladder.index("laptop") < ladder.index("gpu") < ladder.index("paper")
    gpu, paper = resolve(BASE, {"scale": "gpu"}), resolve(BASE, {"scale": "paper"})
    keys = [key for key, scale in BASE["claims"]["show_from"].items() if scale == "gpu"]
    assert keys
    for key in keys:
        for name in target_experiments(gpu, TARGETS[key.split(".")[0]]):
            assert trained(gpu, name).items() <= trained(paper, name).items(), (key, name)


def test_the_gpu_scale_plans_on_a_cpu_with_each_training_job_asking_for_one_gpu(tmp_path):
    """A dry run of everything at gpu scale on a machine without a GPU: one training job per seed group the grid
    plans (a group two experiments share, once), each asking Snakemake for one GPU (device: cuda)."""
    planned = run(tmp_path, "-n", "--config", "scale=gpu")
    assert planned.returncode == 0, planned.stderr[-2000:]
    jobs = [block for block in re.split(r"^rule ", planned.stdout, flags=re.M) if block.startswith("train:")]
    groups = {
        g.folder
        for name, gs in training_jobs(resolve(BASE, {"scale": "gpu"})).items()
        if not is_study(name)
        for g in gs
    }
    assert len(jobs) == len(groups)
    assert all(re.search(r"resources: .*\bgpu=1\b", job) for job in jobs)
