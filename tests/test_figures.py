"""Figures from run curves: statistics, the plotted numbers, files with provenance, the published values read
off three of them (their claims: test_scorecard.py)."""
import itertools

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from plainres import figures, scorecard


def frame(curve, nets=(("plain", "kwi"), ("residual", "hmwi")), depths=(20,), seeds=3, epochs=6):
    """Synthetic run curves: L = curve(net, init, depth, seed, epoch)."""
    rows = []
    for (net, init), depth, seed, epoch in itertools.product(nets, depths, range(seeds), range(epochs + 1)):
        loss = curve(net, init, depth, seed, epoch)
        rows.append({"net": net, "init": init, "depth": depth, "seed": seed, "epoch": epoch, "L": loss,
                     "E": min(0.9, loss / 3)})
    return pd.DataFrame(rows)


def test_mean_sd_over_seeds_at_every_epoch():
    f = frame(lambda net, init, depth, seed, epoch: 1.0 + seed + epoch, nets=(("plain", "kwi"),), seeds=3)
    stats = figures.mean_sd(f, [], "epoch", "L")
    assert list(stats.epoch) == list(range(7)) and (stats.n == 3).all()
    assert np.allclose(stats["mean"], 2.0 + stats.epoch) and np.allclose(stats.sd, 1.0)  # seeds 0,1,2: sd 1
    one = figures.mean_sd(f[f.seed == 0], [], "epoch", "L")
    assert (one.sd == 0).all()


def residual_first(net, init, depth, seed, epoch):
    base = 2.3 * 0.3 ** epoch if net == "residual" else 2.3 * 0.5 ** epoch
    return base * (1 + 0.01 * seed)


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
    return 2.3 * rate ** epoch + 0.001 * seed


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


def test_fig7_histograms_count_every_weight_and_every_id_entry():
    from plainres.init import initialise
    from plainres.measures.weights import parameter_vector, plain_view
    from plainres.models import build_model

    vectors = {}
    for name, net, init in (("p_0", "plain", "kwi"), ("p_end", "plain", "kwi"),
                            ("t_0", "residual", "hmwi"), ("t_end", "residual", "hmwi")):
        model = initialise(build_model("simplified", net, 8).double(), init, seed=len(vectors))
        vectors[name] = parameter_vector(plain_view({"arch": "simplified", "net": net, "depth": 8}, model.state_dict()))
    fig, data = figures.fig7(vectors, depth=8, clip=100)
    for name, (w, is_id) in vectors.items():
        all_weights = data[(data.vector == name) & (data.panel == "all")]
        assert all_weights["count"].sum() == len(w)
        assert (all_weights["large"] == int((w.abs() > figures.FIG7_LARGE).sum())).all()
        if name.startswith("t"):
            assert data[(data.vector == name) & (data.panel == "id")]["count"].sum() == int(is_id.sum())
    assert fig.axes[0].get_ylim() == (0, 100)
    # at init the ID entries of t sit at 1 ± ~1e-2, and few KWI weights exceed 0.7 (only the stem's, σ = 0.27)
    assert [r.verdict for r in scorecard.claims_fig7(data)] == ["holds", "holds"]


def test_fig3_histograms_each_net_per_depth():
    rng = np.random.default_rng(0)
    cushions = pd.concat([pd.DataFrame({"net": net, "depth": depth, "seed": 0, "mu": rng.normal(centre, 0.01, 500)})
                          for depth in (20, 32) for net, centre in (("plain", 0.1), ("residual", 0.2))])
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
    assert data["mean"].iloc[0] == pytest.approx(grads.mean().item()) and data.sd.iloc[0] == pytest.approx(0.011, rel=0.01)
    summary = scorecard.fig10_summary(data).set_index("quantity")
    assert summary.loc["sd", "paper"] == 0.011 and summary.loc["mean", "paper"] == 1.44e-4


def sigma_frame(curve, archs=("simplified", "fully-fledged"), depth=20, seeds=2):
    """Synthetic Fig 12 measurements: σ = curve(arch, net, stage, layer, seed) for layers 1 … L−1."""
    rows = [{"arch": arch, "net": net, "depth": depth, "seed": seed, "stage": stage, "layer": layer,
             "sigma": 1.0 if layer == depth - 1 else curve(arch, net, stage, layer, seed)}
            for arch, net, stage, seed, layer in itertools.product(archs, ("plain", "residual"), ("first", "last"),
                                                                   range(seeds), range(1, depth))]
    return pd.DataFrame(rows)


def paper_like(arch, net, stage, layer, seed):
    """Residual σ rising with the layer above a flat plain σ, both lower at the last stage."""
    base = 0.2 + 0.01 * seed - (0.05 if stage == "last" else 0)
    return base + (0.03 * layer if net == "residual" else 0)


def test_fig12_plots_every_layer_and_its_ratios():
    spec = {"seeds": 2, "panels": {"simplified": {"depth": 20, "ratio_layers": [1, 18]},
                                   "fully-fledged": {"depth": 20, "ratio_layers": [1, 17]}}}
    _, data = figures.fig12(sigma_frame(paper_like))
    assert len(data) == 2 * 2 * 2 * 19 and (data.n == 2).all()
    at = data.set_index(["arch", "net", "stage", "layer"])
    assert at.loc[("simplified", "residual", "first", 18), "mean"] == pytest.approx(0.205 + 0.54)
    summary = scorecard.fig12_summary(data, spec).set_index(["net", "quantity"])
    first, last = (0.205 + 0.54) / 0.205, (0.155 + 0.54) / 0.155
    assert summary.loc[("simplified", "ratio_18"), "mean"] == pytest.approx((first + last) / 2)
    assert summary.loc[("simplified", "ratio_18"), "paper"] == 4.06
    assert summary.loc[("fully-fledged", "ratio_17"), "paper"] == 3.07
