"""bench/paper_cost.py: the training cost of a scale, counted from the config and weighted by each net's
multiply-adds."""

import importlib.util
import re
import sys

import yaml
from conftest import REPO
from test_models import multiply_adds_by_hand

from plainres import configuration

sys.path.insert(0, str(REPO / "bench"))  # paper_cost reads its reference net from bench_train, beside it
spec = importlib.util.spec_from_file_location("paper_cost", REPO / "bench" / "paper_cost.py")
paper_cost = importlib.util.module_from_spec(spec)
spec.loader.exec_module(paper_cost)


def one_experiment(arch: str, depth: int, seeds: int = 3, group_size: int = 2) -> dict:
    config = configuration.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), {"scale": "smoke"})
    config["group_size"] = group_size
    config["train"].update(epochs=10, eval_every=5, train_subset=None, test_subset=None)
    config["experiments"] = {
        "only": {
            "arch": arch,
            "depths": [depth],
            "seeds": seeds,
            "nets": [{"net": "plain", "init": "hmwi"}, {"net": "residual", "init": "hmwi"}],
        }
    }
    return config


def test_the_bench_net_counts_its_epochs_and_evaluations_at_weight_one():
    c = paper_cost.cost(one_experiment("simplified", 20))
    per_run = 10 * 50_000 + (10 // 5 + 1) * (50_000 + 10_000) / 3
    assert (c["jobs"], c["runs"]) == (4, 6)  # two nets × seeds 3 in groups of at most 2
    assert c["image_passes"] == c["weighted_passes"] == 6 * per_run


def test_a_deeper_net_costs_its_multiply_adds_ratio():
    for arch, depth in (("simplified", 110), ("fully-fledged", 32), ("simplified", 5)):
        c = paper_cost.cost(one_experiment(arch, depth))
        ratio = multiply_adds_by_hand(depth, arch) / multiply_adds_by_hand(20, "simplified")
        assert abs(c["weighted_passes"] / c["image_passes"] - ratio) < 1e-12


def test_the_paper_scale_count_prints_jobs_runs_and_hours(capsys):
    paper_cost.main(["--scale", "paper", "--images-per-second", "1000"])
    out = capsys.readouterr().out
    config = configuration.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), {"scale": "paper"})
    c = paper_cost.cost(config)
    assert f"{c['jobs']} training jobs, {c['runs']} runs" in out
    assert f"{c['weighted_passes'] / 1000 / 3600:,.2f} hours" in out


def test_the_scale_study_is_not_part_of_a_scales_cost():
    config = configuration.resolve(yaml.safe_load((REPO / "config.yaml").read_text()), {"scale": "quick"})
    assert any(configuration.is_study(name) for name in config["experiments"])
    without = {
        **config,
        "experiments": {n: e for n, e in config["experiments"].items() if not configuration.is_study(n)},
    }
    assert paper_cost.cost(config) == paper_cost.cost(without)


def test_the_gpu_scale_costs_about_one_gpu_hour_at_the_prototypes_pace(capsys):
    """The gpu scale is sized to about one hour at the prototype's pace: a seed group of 16 depth-20 nets in bf16
    trained 254,000 model-images/s (docs/pipeline.md, Scales)."""
    paper_cost.main(["--scale", "gpu", "--group-size", "16", "--images-per-second", "254000"])
    hours = float(re.search(r"→ ([0-9.,]+) hours", capsys.readouterr().out).group(1))
    assert 0.7 <= hours <= 1.3
