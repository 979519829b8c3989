"""Figures from run curves: statistics, the plotted numbers, files with provenance, scorecard claims."""
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


def test_fig2_plots_both_nets_and_the_scorecard_reads_it(tmp_path):
    fig, data = figures.fig2(frame(residual_first, epochs=8), depth=20, reach_loss=0.01)
    assert set(data.net) == {"plain", "residual"} and set(data.quantity) == {"L", "E"}
    figures.save(fig, data, tmp_path / "fig2", "a caption", {"scale": "test", "data_source": '{"kind": "synthetic"}'})
    with Image.open(tmp_path / "fig2.png") as png:
        assert "a caption" in png.info["Description"] and "scale: test" in png.info["Description"]
    assert (tmp_path / "fig2.pdf").read_bytes().startswith(b"%PDF")
    written = pd.read_csv(tmp_path / "fig2.csv", comment="#")
    assert np.allclose(written["mean"], data["mean"])
    verdicts = [v for _, v, _ in scorecard.claims_fig2(written, reach_loss=0.01)]
    assert verdicts == ["holds", "holds", "holds"]  # residual lower L, lower E, reaches 0.01 first (epoch 5 vs 8)
    _, flipped = figures.fig2(frame(lambda n, *a: residual_first("plain" if n == "residual" else "residual", *a),
                                    epochs=8), depth=20, reach_loss=0.01)
    assert [v for _, v, _ in scorecard.claims_fig2(flipped, reach_loss=0.01)] == ["fails", "fails", "fails"]
    _, neither = figures.fig2(frame(residual_first, epochs=2), depth=20, reach_loss=0.01)
    assert scorecard.claims_fig2(neither, reach_loss=0.01)[2][1] == "not testable"


def fig9_curve(net, init, depth, seed, epoch):
    """t below p; p slows with depth, t barely."""
    rate = {"kwi": 0.5 + 0.01 * depth, "t-hmwi": 0.4 + 0.001 * depth}[init]
    return 2.3 * rate ** epoch + 0.001 * seed


def test_fig9_gap_is_seed_paired_and_its_claims_hold_or_fail():
    f = frame(fig9_curve, nets=(("plain", "kwi"), ("plain", "t-hmwi")), depths=(20, 32, 44), epochs=10)
    fig, data = figures.fig9(f, left_depths=[32, 44])
    left, right = data[data.panel == "left"], data[data.panel == "right"]
    assert set(left.depth) == {32, 44} and set(right.depth) == {20, 32, 44}
    expected = fig9_curve(0, "kwi", 44, 0, 3) - fig9_curve(0, "t-hmwi", 44, 0, 3)  # the seed offsets cancel
    got = right[(right.depth == 44) & (right.epoch == 3)]
    assert got["mean"].item() == pytest.approx(expected) and got.sd.item() == pytest.approx(0, abs=1e-12)
    assert [v for _, v, _ in scorecard.claims_fig9(data)] == ["holds", "holds", "holds"]
    summary = scorecard.fig9_summary(data)
    assert summary.set_index(["net", "depth"]).loc[("p", 44), "paper"] == 0.46
    swapped = frame(lambda n, i, *a: fig9_curve(n, "t-hmwi" if i == "kwi" else "kwi", *a),
                    nets=(("plain", "kwi"), ("plain", "t-hmwi")), depths=(20, 32, 44), epochs=10)
    _, data = figures.fig9(swapped, left_depths=[32, 44])
    assert [v for _, v, _ in scorecard.claims_fig9(data)] == ["fails", "fails", "fails"]


def steps(diffs, per_epoch):
    rows = [{"seed": 0, "iteration": i + 1, "epoch": i // per_epoch + 1, "abs_diff": d} for i, d in enumerate(diffs)]
    return pd.DataFrame(rows)


def test_fig6_claims_read_the_first_step_and_the_growth():
    slow = steps([0.0, 1e-16, 0.0, 2e-16, 1e-9, 1e-8], per_epoch=3)
    assert [v for _, v, _ in scorecard.claims_fig6(slow)] == ["holds", "holds"]
    loud = steps([1e-9, 1e-9, 1e-9, 1e-9, 1e-9, 1e-9], per_epoch=3)
    assert [v for _, v, _ in scorecard.claims_fig6(loud)] == ["fails", "fails"]
    one_epoch = steps([0.0, 1e-16], per_epoch=3)
    assert [v for _, v, _ in scorecard.claims_fig6(one_epoch)] == ["holds", "not testable"]
    still_equal = steps([0.0, 1e-16, 0.0, 0.0, 0.0, 0.0], per_epoch=3)
    assert [v for _, v, _ in scorecard.claims_fig6(still_equal)] == ["holds", "not testable"]


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
    assert [v for _, v, _ in scorecard.claims_fig7(data)] == ["holds", "holds"]
    many = data.assign(large=data["large"] + 1000)
    assert [v for _, v, _ in scorecard.claims_fig7(many)][1] == "fails"


def test_fig3_histograms_each_net_and_the_scorecard_compares_mean_cushions():
    rng = np.random.default_rng(0)
    cushions = pd.concat([pd.DataFrame({"net": net, "depth": depth, "mu": rng.normal(centre, 0.01, 500)})
                          for depth in (20, 32) for net, centre in (("plain", 0.1), ("residual", 0.2))])
    errors = {(n, d): 0.1 for n in ("plain", "residual") for d in (20, 32)}
    fig, data = figures.fig3(cushions, errors, layer=10)
    assert len(fig.axes) == 2
    assert data.groupby(["net", "depth"])["count"].sum().eq(500).all()
    assert [v for _, v, _ in scorecard.claims_fig3(data)] == ["holds"]
    _, swapped = figures.fig3(cushions.assign(net=cushions.net.map({"plain": "residual", "residual": "plain"})),
                              errors, layer=10)
    assert [v for _, v, _ in scorecard.claims_fig3(swapped)] == ["fails"]


def test_fig10_histogram_and_its_scorecard_rows():
    import torch

    grads = torch.randn(3000, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.011
    fig, data = figures.fig10(grads, depth=20, iterations=24)
    assert data["count"].sum() == 3000 * 64 and data.n.iloc[0] == 3000 * 64
    assert data["mean"].iloc[0] == pytest.approx(grads.mean().item()) and data.sd.iloc[0] == pytest.approx(0.011, rel=0.01)
    summary = scorecard.fig10_summary(data).set_index("quantity")
    assert summary.loc["sd", "paper"] == 0.011 and summary.loc["mean", "paper"] == 1.44e-4
    assert [v for _, v, _ in scorecard.claims_fig10(data)] == ["holds"]
    _, shifted = figures.fig10(grads + 0.01, depth=20, iterations=24)
    assert [v for _, v, _ in scorecard.claims_fig10(shifted)] == ["fails"]


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


def test_fig12_plots_every_layer_and_its_ratios_and_claims_read_the_means():
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
    assert [v for _, v, _ in scorecard.claims_fig12(data)] == ["holds"] * 4
    _, flat = figures.fig12(sigma_frame(lambda arch, net, stage, layer, seed: 0.3 if stage == "first" else 0.4))
    assert [v for _, v, _ in scorecard.claims_fig12(flat)] == ["fails"] * 4


def test_cushion_claim_needs_the_gap_to_exceed_its_standard_errors():
    def table(residual, plain, se):
        rows = [{"net": net, "depth": 20, "quantity": q, "mean": v, "sd": float("nan"), "n": 1, "diverged": 0}
                for net, m in (("residual", residual), ("plain", plain)) for q, v in (("mean", m), ("mean_se", se))]
        return pd.DataFrame(rows)

    assert [v for _, v, _ in scorecard.claims_cushion_full(table(0.2, 1e-7, 1e-3))] == ["holds"]
    assert [v for _, v, _ in scorecard.claims_cushion_full(table(0.2, 0.199, 1e-3))] == ["fails"]


# ---------------------------------------------------------------- claims of the simulations and of LW App. C

def _verdicts(claims):
    return [verdict for _, verdict, _ in claims]


def test_fig11_claims_hold_on_the_simulation_and_fail_where_the_paper_would_be_wrong():
    from plainres.simulate import trivial

    defaults = {"n": 20, "eps": 0.1, "L": 10, "l": 5, "p": 0.9, "sigma_A": 0.01, "sigma_V": 0.1}
    sweeps = {"n": [5, 20], "l": [1, 5, 9], "sigma_V": [0.01, 1.0], "p": [0.5, 0.9, 1.0]}
    table = trivial.fig11_table(defaults, sweeps, trials=2000, seed=0)
    assert _verdicts(scorecard.claims_fig11(table)) == ["holds"] * 5
    broken = table.copy()
    broken.loc[broken.net == "residual", "approx_eq11"] += 0.1  # an approximation off by 0.1
    assert _verdicts(scorecard.claims_fig11(broken))[0] == "fails"
    plain_above = table.copy()
    plain_above.loc[plain_above.net == "plain", "mean"] = 1.0
    assert _verdicts(scorecard.claims_fig11(plain_above))[-1] == "fails"


def test_fig13_claims_read_the_quadrature_and_the_largest_error():
    from plainres.simulate import gaussian

    table = gaussian.phi_table(1e-2, 1e2, 21).assign(kind="grid")
    worst = gaussian.approx_max_error(1.2, 1e-2, 1e2, 2001)
    rows = pd.concat([table, pd.DataFrame([{"kind": "max_error", "r": worst["r"], "approx_error": worst["error"]}]),
                      gaussian.phi_monte_carlo_table([0.5, 2.0], 20000, 0).assign(kind="monte_carlo")])
    assert _verdicts(scorecard.claims_fig13(rows)) == ["holds", "holds"]
    off = rows.assign(phi_integral=rows.phi_integral * (1 + 1e-6))
    assert _verdicts(scorecard.claims_fig13(off))[0] == "fails"
    coarse = rows.assign(approx_error=rows.approx_error * 2)  # c far from 1.2 would leave ≈ 0.016
    assert _verdicts(scorecard.claims_fig13(coarse))[1] == "fails"


def test_lw_ensemble_claims_hold_on_the_exact_series_and_fail_on_wrong_ones():
    from plainres.simulate import ensemble

    abc = ensemble.fig1_abc_table(100, [0.1, 0.5, 2.0])
    assert _verdicts(scorecard.claims_lw_fig1_abc(abc)) == ["holds"]
    assert _verdicts(scorecard.claims_lw_fig1_abc(abc.assign(beta=-abc.beta))) == ["fails"]  # order reversed
    t1 = ensemble.theorem1_table([0.5, 2.0], [10, 330, 3300])
    assert _verdicts(scorecard.claims_lw_theorem1(t1)) == ["holds"]
    assert _verdicts(scorecard.claims_lw_theorem1(t1.assign(fraction=t1.fraction + 0.01))) == ["fails"]
    f = ensemble.fig1_f_table(50, np.logspace(-2, 2, 41))
    assert _verdicts(scorecard.claims_lw_fig1_f(f)) == ["holds"]
    assert _verdicts(scorecard.claims_lw_fig1_f(f.assign(theta_k=f.theta_k[::-1].values))) == ["fails"]


def test_lw_appc_claim_compares_the_first_and_last_mean_absorbed_norm():
    rows = pd.DataFrame({"dataset": "cifar10", "view": "mean_over_layers", "quantity": "absorbed_norm",
                         "epoch": [0, 1, 2], "mean": [5.0, 4.0, 6.0]})
    assert _verdicts(scorecard.claims_lw_appc(rows)) == ["holds"]
    assert _verdicts(scorecard.claims_lw_appc(rows.assign(mean=[5.0, 6.0, 4.0]))) == ["fails"]


def test_lw_mlp_claims_read_the_late_trend_and_the_stage_order():
    its = np.arange(0, 101, 10)
    dip_then_rise = np.r_[1.0, 0.8, 0.6, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85]
    over = pd.DataFrame({"panel": "over training", "series": "mean lambda_2..L", "iteration": its, "value": dip_then_rise})
    stages = pd.DataFrame([{"panel": "by layer", "series": f"iteration {t}", "iteration": t, "layer": layer,
                            "value": v} for t, v in ((0, 1.0), (50, 0.6), (100, 0.85)) for layer in (1, 2, 3)])
    verdicts = _verdicts(scorecard.claims_lw_fig1_d(pd.concat([over, stages])))
    assert verdicts == ["holds", "fails"]  # rises late, yet the last stage lies below the initial λ = 1
    rising = over.assign(value=np.linspace(1, 2, len(its)))
    higher = stages.assign(value=stages.iteration / 100 + 1)
    assert _verdicts(scorecard.claims_lw_fig1_d(pd.concat([rising, higher]))) == ["holds", "holds"]
    w = pd.DataFrame({"panel": "w_norm", "series": "w_norm", "iteration": its, "value": 7 + its / 10})
    assert _verdicts(scorecard.claims_lw_fig1_e(w)) == ["holds"]
    assert _verdicts(scorecard.claims_lw_fig1_e(w.assign(value=w.value[::-1].values))) == ["fails"]
