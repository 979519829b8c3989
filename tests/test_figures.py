"""Figures from run curves: statistics, the plotted numbers, files with provenance, the published values read
off three of them (their claims: test_scorecard.py)."""

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import legend_texts, panel_texts, residual_first, sigma_frame
from PIL import Image

from plainres import figures, scorecard


def frame(curve, nets=(("plain", "kwi"), ("residual", "hmwi")), depths=(20,), seeds=3, epochs=6):
    """Synthetic run curves: L = curve(net, init, depth, seed, epoch)."""
    rows = []
    for (net, init), depth, seed, epoch in itertools.product(nets, depths, range(seeds), range(epochs + 1)):
        loss = curve(net, init, depth, seed, epoch)
        rows.append(
            {"net": net, "init": init, "depth": depth, "seed": seed, "epoch": epoch, "L": loss, "E": min(0.9, loss / 3)}
        )
    return pd.DataFrame(rows)


def test_mean_sd_over_seeds_at_every_epoch():
    f = frame(lambda net, init, depth, seed, epoch: 1.0 + seed + epoch, nets=(("plain", "kwi"),), seeds=3)
    stats = figures.mean_sd(f, [], "epoch", "L")
    assert list(stats.epoch) == list(range(7)) and (stats.n == 3).all()
    assert np.allclose(stats["mean"], 2.0 + stats.epoch) and np.allclose(stats.sd, 1.0)  # seeds 0,1,2: sd 1
    one = figures.mean_sd(f[f.seed == 0], [], "epoch", "L")
    assert (one.sd == 0).all()


def test_fig2_plots_both_nets_and_writes_what_it_plots(tmp_path):
    fig, data = figures.fig2(frame(residual_first, epochs=8), depth=20, reach_loss=0.01)
    assert set(data.net) == {"plain", "residual"} and set(data.quantity) == {"L", "E"}
    figures.save(fig, data, tmp_path / "fig2", "a caption", {"scale": "test", "data_source": '{"kind": "synthetic"}'})
    with Image.open(tmp_path / "fig2.png") as png:
        assert "a caption" in png.info["Description"] and "scale: test" in png.info["Description"]
    assert (tmp_path / "fig2.pdf").read_bytes().startswith(b"%PDF")
    written = pd.read_csv(tmp_path / "fig2.csv", comment="#")
    assert np.allclose(written["mean"], data["mean"])


def fig9_curve(net, init, depth, seed, epoch):
    """t below p; p slows with depth, t barely."""
    rate = {"kwi": 0.5 + 0.01 * depth, "t-hmwi": 0.4 + 0.001 * depth}[init]
    return 2.3 * rate**epoch + 0.001 * seed


def test_fig9_gap_is_seed_paired_and_the_final_means_meet_the_papers():
    f = frame(fig9_curve, nets=(("plain", "kwi"), ("plain", "t-hmwi")), depths=(20, 32, 44), epochs=10)
    fig, data = figures.fig9(f, left_depths=[32, 44])
    left, right = data[data.panel == "left"], data[data.panel == "right"]
    assert set(left.depth) == {32, 44} and set(right.depth) == {20, 32, 44}
    expected = fig9_curve(0, "kwi", 44, 0, 3) - fig9_curve(0, "t-hmwi", 44, 0, 3)  # the seed offsets cancel
    got = right[(right.depth == 44) & (right.epoch == 3)]
    assert got["mean"].item() == pytest.approx(expected) and got.sd.item() == pytest.approx(0, abs=1e-12)
    summary = scorecard.fig9_summary(data)
    assert summary.set_index(["net", "depth"]).loc[("p", 44), "paper"] == 0.46


def test_fig6_pairs_steps_by_iteration_and_counts_exact_zeros(tmp_path):
    plain = pd.DataFrame({"iteration": [1, 2, 3], "epoch": [1, 1, 1], "L": [2.3, 2.2, 2.1]})
    residual = plain.assign(L=[2.3, 2.2 + 1e-15, 2.1])
    fig, data = figures.fig6([(0, plain, residual)], depth=8)
    assert list(data.abs_diff == 0) == [True, False, True]
    assert data.abs_diff.max() == pytest.approx(1e-15, rel=0.2)
    legend = fig.axes[1].get_legend().get_texts()[0].get_text()
    assert "2 of 3 steps exactly equal" in legend


def test_fig3_histograms_each_net_per_depth():
    rng = np.random.default_rng(0)
    cushions = pd.concat(
        [
            pd.DataFrame({"net": net, "depth": depth, "seed": 0, "mu": rng.normal(centre, 0.01, 500)})
            for depth in (20, 32)
            for net, centre in (("plain", 0.1), ("residual", 0.2))
        ]
    )
    errors = {(n, d): 0.1 for n in ("plain", "residual") for d in (20, 32)}
    fig, data = figures.fig3(cushions, errors, layer=10)
    assert len(fig.axes) == 2
    assert data.groupby(["net", "depth"])["count"].sum().eq(500).all()
    assert data.groupby("net")["mean"].first().to_dict() == pytest.approx({"plain": 0.1, "residual": 0.2}, rel=0.01)


def test_fig10_histogram_and_its_published_values():
    import torch

    grads = torch.randn(3000, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.011
    fig, data = figures.fig10(grads, depth=20, iterations=24)
    assert data["count"].sum() == 3000 * 64 and data.n.iloc[0] == 3000 * 64
    assert data["mean"].iloc[0] == pytest.approx(grads.mean().item()) and data.sd.iloc[0] == pytest.approx(
        0.011, rel=0.01
    )
    summary = scorecard.fig10_summary(data).set_index("quantity")
    assert summary.loc["sd", "paper"] == 0.011 and summary.loc["mean", "paper"] == 1.44e-4


def paper_like(arch, net, stage, layer, seed):
    """Residual σ rising with the layer above a flat plain σ, both lower at the last stage."""
    base = 0.2 + 0.01 * seed - (0.05 if stage == "last" else 0)
    return base + (0.03 * layer if net == "residual" else 0)


def test_fig12_plots_every_layer_and_its_ratios():
    spec = {
        "seeds": 2,
        "panels": {
            "simplified": {"depth": 20, "ratio_layers": [1, 18]},
            "fully-fledged": {"depth": 20, "ratio_layers": [1, 17]},
        },
    }
    _, data = figures.fig12(sigma_frame(paper_like, seeds=2))
    assert len(data) == 2 * 2 * 2 * 19 and (data.n == 2).all()
    at = data.set_index(["arch", "net", "stage", "layer"])
    assert at.loc[("simplified", "residual", "first", 18), "mean"] == pytest.approx(0.205 + 0.54)
    summary = scorecard.fig12_summary(data, spec).set_index(["net", "quantity"])
    first, last = (0.205 + 0.54) / 0.205, (0.155 + 0.54) / 0.155
    assert summary.loc[("simplified", "ratio_18"), "mean"] == pytest.approx((first + last) / 2)
    assert summary.loc[("simplified", "ratio_18"), "paper"] == 4.06
    assert summary.loc[("fully-fledged", "ratio_17"), "paper"] == 3.07


# ---------------------------------------------------------------- diverged runs: left out, counted, never a crash


def with_diverged_run(f: pd.DataFrame, **where) -> pd.DataFrame:
    """The curves with the run matching `where` diverged: only its epoch-0 row left, status 'diverged'."""
    hit = np.logical_and.reduce([f[k] == v for k, v in where.items()])
    names = [f"{n}-{i}-d{d}-s{s}" for n, i, d, s in zip(f.net, f.init, f.depth, f.seed, strict=True)]
    f = f.assign(status=np.where(hit, "diverged", "finished"), run_id=names)
    return f[~hit | (f.epoch == 0)]


def test_fig2_and_fig9_leave_a_diverged_run_out_of_the_means_and_count_it():
    f = with_diverged_run(frame(residual_first, epochs=4), net="plain", seed=0)
    f.loc[(f.status == "diverged"), "L"] = 1e9  # its last evaluated loss would drag the mean at epoch 0
    fig, data = figures.fig2(f, depth=20, reach_loss=0.01)
    plain = data[(data.net == "plain") & (data.quantity == "L")]
    assert (plain.n == 2).all() and plain["mean"].max() < 3
    assert "plain (KWI), n=2, 1 diverged (left out)" in legend_texts(fig)
    every = with_diverged_run(
        frame(fig9_curve, nets=(("plain", "kwi"), ("plain", "t-hmwi")), depths=(20, 32)), init="kwi", depth=32
    )  # every KWI run at depth 32
    fig, data = figures.fig9(every, left_depths=[20, 32])
    assert data[(data.panel == "left") & (data.init == "kwi") & (data.depth == 32)].empty
    assert "$p$ (KWI), depth 32, 3 diverged (left out)" in legend_texts(fig)
    assert set(data[data.panel == "right"].depth) == {20}


def test_fig6_without_a_pair_left_says_so():
    fig, data = figures.fig6([], depth=8, diverged=2)
    assert data.empty and "abs_diff" in data
    assert "no pair left: 2 run(s) diverged" in panel_texts(fig) and "2 diverged run(s)" in legend_texts(fig)


def test_fig3_counts_the_diverged_runs_and_leaves_out_undefined_cushions():
    rng = np.random.default_rng(1)
    cushions = pd.concat(
        [
            pd.DataFrame({"net": net, "depth": 20, "seed": 1, "mu": rng.normal(c, 0.01, 100)})
            for net, c in (("plain", 0.1), ("residual", 0.2))
        ],
        ignore_index=True,
    )
    cushions.loc[:4, "mu"] = np.nan  # a dead layer's μ = 0/0 at 5 of the plain net's samples
    diverged = pd.DataFrame({"net": ["plain", "plain", "residual"], "depth": [20, 32, 32], "run_id": ["a", "b", "c"]})
    errors = {("plain", 20): 0.3, ("residual", 20): 0.2}
    fig, data = figures.fig3(cushions, errors, layer=10, diverged=diverged)
    assert len(fig.axes) == 2 and set(data.depth) == {20}  # depth 32: a panel, nothing drawn
    assert data.groupby("net")["count"].sum().to_dict() == {"plain": 95, "residual": 100}
    legends = legend_texts(fig)
    assert "1 diverged (left out), 5 samples with μ undefined" in legends
    assert "plain: all 1 run(s) diverged, nothing to draw" in legends and "all runs diverged" in panel_texts(fig)


def test_fig12_and_lw_appc_draw_a_panel_whose_runs_all_diverged():
    sigmas = sigma_frame(paper_like, seeds=2)
    sigmas = sigmas[~((sigmas.arch == "simplified") & (sigmas.net == "plain"))]
    diverged = pd.DataFrame({"arch": "simplified", "net": "plain", "depth": 20, "run_id": ["p-s0", "p-s1"]})
    fig, data = figures.fig12(sigmas, diverged=diverged)
    assert "plain: all 2 run(s) diverged, nothing to draw" in legend_texts(fig)
    summary = scorecard.fig12_summary(data, {"panels": {"simplified": {"depth": 20, "ratio_layers": [1]}}})
    assert summary["mean"].isna().all()
    fig, data = figures.fig12(pd.DataFrame(), diverged=diverged)
    assert data.empty and len(fig.axes) == 1
    norms = pd.DataFrame(
        [
            {
                "dataset": "cifar10",
                "depth": 8,
                "seed": 0,
                "epoch": e,
                "layer": layer,
                "absorbed_norm": 5.0 + e,
                "bn_scale_norm": 1.0,
            }
            for e in range(3)
            for layer in (1, 2)
        ]
    )
    gone = pd.DataFrame({"dataset": ["cifar10", "cifar100"], "depth": 8, "run_id": ["a", "b"]})
    fig, data = figures.lw_appc(norms, stages=2, milestones={}, diverged=gone)
    assert set(data.dataset) == {"cifar10"} and "all 1 run(s) diverged" in panel_texts(fig)
    assert "1 diverged (left out)" in legend_texts(fig)
