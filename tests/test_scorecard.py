"""The scorecard: each verdict of a claim weighed against its seeds, on synthetic runs and curves where the
answer is known; every claim function on data where it must hold, fail, stay inconclusive or be untestable;
the scale ladder; the rendered page."""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import legend_texts, panel_texts, residual_first, sigma_frame

from plainres import evidence, figures, scorecard, tables
from plainres.evidence import Effect, one_sample, paired, unpaired

RNG = np.random.default_rng(0)


def verdicts(rows):
    return [r.verdict for r in rows]


# ---------------------------------------------------------------- the verdict rules


@pytest.mark.parametrize(
    "value,se,n,expected",
    [
        (0.3, 0.1, 3, "holds"),
        (0.19, 0.1, 3, "inconclusive"),
        (-0.3, 0.1, 5, "fails"),
        (-0.19, 0.1, 5, "inconclusive"),
        (0.3, 0.1, 2, "inconclusive"),
        (-0.3, 0.1, 2, "inconclusive"),
        (0.1, 0.0, 3, "holds"),
        (0.0, 0.0, 3, "inconclusive"),
        (math.nan, math.nan, 0, "not testable"),
        (0.3, math.nan, 1, "inconclusive"),
    ],
)
def test_a_verdict_needs_two_standard_errors_and_three_seeds(value, se, n, expected):
    assert Effect(value, se, n).verdict() == expected


def test_pairing_by_seed_removes_what_the_two_sides_share():
    """Seeds that move both nets alike (a shared minibatch sequence) hide the effect from two independent
    means, not from the per-seed differences."""
    shared = pd.Series([0.0, 1.0, 2.0, 3.0])
    plain, residual = shared + 0.1 + pd.Series([0.001, -0.001, 0.002, 0.0]), shared
    assert paired(plain, residual).verdict() == "holds"
    assert paired(plain, residual).value == pytest.approx(0.1005)
    assert unpaired(plain, residual).verdict() == "inconclusive" and not unpaired(plain, residual).paired
    assert paired(plain, residual.iloc[:2]).n == 2  # only the seeds both sides have


def test_one_sample_is_the_mean_and_standard_error_of_the_per_seed_effects():
    e = one_sample(pd.Series([1.0, 2.0, 3.0, np.nan]))
    assert (e.value, e.n) == (2.0, 3) and e.se == pytest.approx(1 / math.sqrt(3))


def test_below_scale_where_the_scale_ranks_under_the_claims_smallest_scale():
    row = evidence.weighed("yt_table1", "yt_table1.L", "a claim", Effect(-1.0, 0.1, 3))
    ladder, show_from = ["smoke", "quick", "laptop", "paper"], {"yt_table1.L": "laptop"}
    below = evidence.at_scale(row, "quick", ladder, show_from)
    assert (
        below.verdict == "below scale" and "shows from scale `laptop`" in below.detail and "reads fails" in below.detail
    )
    assert evidence.at_scale(row, "laptop", ladder, show_from).verdict == "fails"
    assert evidence.at_scale(row, "paper", ladder, show_from).verdict == "fails"
    assert evidence.at_scale(row, "quick", ladder, {}).verdict == "fails"  # a claim with no smallest scale
    untestable = evidence.exact("yt_table1", "yt_table1.L", "a claim", None)
    assert evidence.at_scale(untestable, "quick", ladder, show_from).verdict == "not testable"


def test_all_of_holds_only_when_every_case_holds():
    good, weak, bad = Effect(1.0, 0.1, 3), Effect(0.1, 0.1, 3), Effect(-1.0, 0.1, 3)
    assert scorecard.all_of("t", "t.k", "c", {"a": good, "b": good}).verdict == "holds"
    row = scorecard.all_of("t", "t.k", "c", {"a": good, "b": weak})
    assert row.verdict == "inconclusive" and row.effect == weak and "weakest: b" in row.detail
    assert scorecard.all_of("t", "t.k", "c", {"a": weak, "b": bad}).verdict == "fails"
    assert scorecard.all_of("t", "t.k", "c", {"a": evidence.NO_DATA}).verdict == "not testable"
    assert scorecard.all_of("t", "t.k", "c", {"a": good, "b": evidence.NO_DATA}).verdict == "inconclusive"


# ---------------------------------------------------------------- YT Tables 1, 2, 4, 5 from runs


def runs(cells, seeds=3, noise=0.01, shared=0.2, **columns):
    """Synthetic runs: cells maps (net, depth) → L; each seed moves every net alike by `shared` × N(0, 1)
    (a shared minibatch sequence) and each run by `noise` × N(0, 1)."""
    seed_shift = RNG.normal(0, shared, seeds)
    rows = []
    for (net, depth), loss in cells.items():
        for seed in range(seeds):
            L = max(1e-4, loss + seed_shift[seed] * loss + RNG.normal(0, noise))
            rows.append(
                {
                    "net": net,
                    "depth": depth,
                    "seed": seed,
                    "status": "finished",
                    "run_id": f"{net}-d{depth}-s{seed}",
                    "L": L,
                    "E": min(0.9, L / 3),
                    "C": L + 1e-3,
                    "reg": 5e-4,
                    "reg_before": 5e-4 if net == "plain" else 2e-6,
                    "L_before": 2.3,
                    "epochs": 10,
                    "train_subset": 1000,
                    "dtype": "float32",
                    **columns,
                }
            )
    return pd.DataFrame(rows)


PAPER_T1 = {("plain", 20): 0.072, ("plain", 44): 0.495, ("residual", 20): 0.043, ("residual", 44): 0.074}


def test_table1_claims_hold_fail_or_stay_inconclusive_with_their_seeds():
    assert verdicts(scorecard.claims_table1(runs(PAPER_T1))) == ["holds"] * 5  # L at 20, 44; E at 20, 44; degradation
    swapped = {(("residual" if n == "plain" else "plain"), d): v for (n, d), v in PAPER_T1.items()}
    assert verdicts(scorecard.claims_table1(runs(swapped))) == ["fails"] * 5
    close = {k: 0.1 for k in PAPER_T1}
    assert set(verdicts(scorecard.claims_table1(runs(close, noise=0.05, shared=0)))) <= {
        "inconclusive",
        "holds",
        "fails",
    }
    assert verdicts(scorecard.claims_table1(runs(close, noise=0.05, shared=0)))[0] == "inconclusive"
    assert verdicts(scorecard.claims_table1(runs(PAPER_T1, seeds=2))) == ["inconclusive"] * 5
    only_plain = runs({("plain", 20): 0.07})
    assert verdicts(scorecard.claims_table1(only_plain)) == ["not testable", "not testable"]


def test_a_diverged_run_is_left_out_and_named():
    r = runs(PAPER_T1, seeds=4)
    r.loc[0, ["status", "L", "E"]] = ["diverged", math.nan, math.nan]
    rows = scorecard.claims_table1(r)
    assert rows[0].verdict == "holds" and rows[0].effect.n == 3
    assert "1 diverged run(s) left out: plain-d20-s0" in rows[0].detail


def test_a_claim_whose_runs_all_diverged_is_not_testable_and_names_them():
    r = runs(PAPER_T1)
    gone = (r.net == "plain") & (r.depth == 44)
    r.loc[gone, "status"] = "diverged"
    at_20, at_44, _, _, degradation = scorecard.claims_table1(r)  # L at 20, 44; E at 20, 44; degradation
    assert at_44.verdict == "not testable" and at_44.effect.n == 0
    assert "3 diverged run(s) left out: plain-d44-s0, plain-d44-s1, plain-d44-s2" in at_44.detail
    assert at_20.verdict == "holds" and "diverged" not in at_20.detail
    assert degradation.verdict == "not testable" and "plain-d44-s2" in degradation.detail  # needs plain L at 44
    assert verdicts(scorecard.claims_table4(r)) == ["inconclusive", "holds"]  # one cell of four without data


def test_a_measured_targets_diverged_runs_are_named_in_its_claims():
    cushions = pd.concat(
        [
            pd.DataFrame({"net": net, "depth": 20, "seed": seed, "mu": RNG.normal(c, 0.01, 50)})
            for net, c in (("plain", 0.1), ("residual", 0.2))
            for seed in range(3)
        ]
    )
    read = pd.DataFrame(
        [
            {
                "net": net,
                "depth": d,
                "seed": seed,
                "run_id": f"{net}-d{d}-s{seed}",
                "dir": f"{net}{d}{seed}",
                "status": "finished" if d == 20 else "diverged",
            }
            for net in ("plain", "residual")
            for d in (20, 32)
            for seed in range(3)
        ]
    )
    assert scorecard.with_diverged(cushions, read[read.status == "finished"]) is cushions  # nothing diverged: as read
    rows = scorecard.rows_of({"yt_fig3": cushions}, {}, "paper", [], {}, {"yt_fig3": read})
    assert verdicts(rows) == ["holds", "not testable"]
    assert "diverged" not in rows[0].detail and "6 diverged run(s) left out: plain-d32-s0" in rows[1].detail
    norms = pd.DataFrame(columns=["dataset", "depth", "seed", "epoch", "layer", "absorbed_norm"])
    appc = read[read.depth == 32].assign(dataset="cifar10")
    (row,) = scorecard.rows_of({"lw_appc": norms}, {}, "paper", [], {}, {"lw_appc": appc})
    assert row.verdict == "not testable" and "residual-d32-s2" in row.detail


def test_table4_claims():
    r = runs(PAPER_T1)
    assert verdicts(scorecard.claims_table4(r)) == ["holds", "holds"]
    assert verdicts(scorecard.claims_table4(r.assign(reg=r.L / 5))) == ["fails", "holds"]


def test_table2_claim_is_the_float64_pair_seed_by_seed():
    pair = runs({("plain", 20): 0.0413, ("residual", 20): 0.0413}, noise=0)
    assert verdicts(scorecard.claims_table2(pair)) == ["holds"]
    apart = pair.copy()
    apart.loc[(apart.net == "plain") & (apart.seed == 1), "L"] *= 1.5
    rows = scorecard.claims_table2(apart)
    assert verdicts(rows) == ["fails"] and "seed 1" in rows[0].detail


def test_table5_claims_compare_t_prime_with_residual_nets_trained_alike():
    cells = {
        ("dominant", 20): 0.94,
        ("dominant", 44): 0.94,
        ("dominant-full-lower", 20): 0.7,
        ("residual", 20): 0.04,
        ("residual", 44): 0.07,
    }
    t5 = runs(cells, shared=0.02)
    assert (
        verdicts(scorecard.claims_table5(t5)) == ["holds"] * 5
    )  # E < 0.9, behind at 20 and 44, no degradation, full lower
    other_images = t5.copy()
    other_images.loc[other_images.net == "residual", "train_subset"] = 500
    rows = scorecard.claims_table5(other_images)
    assert rows[1].verdict == "not testable" and "trained on T′'s images, epochs and dtype" in rows[1].detail
    float64 = pd.concat(
        [t5, t5[t5.net == "residual"].assign(dtype="float64", L=0.9)]
    )  # Table 2's nets beside Table 1's
    assert scorecard.claims_table5(float64)[1].effect == scorecard.claims_table5(t5)[1].effect


# ---------------------------------------------------------------- YT Figs 2 and 9 from curves


def curves(curve, nets=(("plain", "kwi"), ("residual", "hmwi")), depths=(20,), seeds=3, epochs=6, steps=10):
    """Synthetic run curves: L = curve(net, init, depth, seed, epoch), `steps` SGD steps per epoch."""
    rows = []
    for (net, init), depth, seed, epoch in itertools.product(nets, depths, range(seeds), range(epochs + 1)):
        loss = curve(net, init, depth, seed, epoch)
        rows.append(
            {
                "net": net,
                "init": init,
                "depth": depth,
                "seed": seed,
                "epoch": epoch,
                "iteration": epoch * steps,
                "L": loss,
                "E": min(0.9, loss / 3),
                "status": "finished",
                "run_id": f"{net}-{init}-d{depth}-s{seed}",
            }
        )
    return pd.DataFrame(rows)


def test_fig2_claims_pair_the_seeds_and_find_who_reaches_the_loss_first():
    spec = {"depth": 20, "reach_loss": 0.01}
    assert verdicts(scorecard.claims_fig2(curves(residual_first, epochs=8), spec)) == ["holds"] * 3  # epoch 5 vs 8
    flipped = curves(lambda n, *a: residual_first("plain" if n == "residual" else "residual", *a), epochs=8)
    assert verdicts(scorecard.claims_fig2(flipped, spec)) == ["fails"] * 3
    short = scorecard.claims_fig2(curves(residual_first, epochs=2), spec)
    assert short[2].verdict == "inconclusive" and "no run reached" in short[2].detail  # the data is there
    rows = scorecard.claims_fig2(curves(residual_first, epochs=6), spec)  # plain never gets there: counted at epoch 7
    assert rows[2].verdict == "holds" and "never reached: plain 3, residual 0" in rows[2].detail


def fig9_curve(net, init, depth, seed, epoch):
    """t below p, the gap growing early; p slows with depth, t barely."""
    rate = {"kwi": 0.8 + 0.003 * depth, "t-hmwi": 0.6 + 0.001 * depth}[init]
    return 2.3 * rate**epoch * (1 + 0.01 * seed)


FIG9 = {"left_depths": [32, 44], "widening_steps": 40}


def test_fig9_claims_hold_on_a_widening_gap_and_fail_on_a_reversed_one():
    nets = (("plain", "kwi"), ("plain", "t-hmwi"))
    data = curves(fig9_curve, nets=nets, depths=(20, 32, 44))
    rows = scorecard.claims_fig9(data, FIG9)
    assert verdicts(rows) == ["holds"] * 5  # t below p at three depths, depth slows p more, the gap widens
    assert "epoch 1 → 4" in rows[-1].detail  # 40 steps = epoch 4
    reversed_ = curves(
        lambda n, i, *a: fig9_curve(n, "t-hmwi" if i == "kwi" else "kwi", *a), nets=nets, depths=(20, 32, 44)
    )
    assert verdicts(scorecard.claims_fig9(reversed_, FIG9)) == ["fails"] * 5
    one_epoch = curves(fig9_curve, nets=nets, depths=(32, 44), epochs=1)
    assert scorecard.claims_fig9(one_epoch, FIG9)[-1].verdict == "not testable"


# ---------------------------------------------------------------- measurements


def test_fig3_and_the_interlayer_cushion_compare_the_seeds_mean_cushions():
    samples = pd.concat(
        [
            pd.DataFrame({"net": net, "depth": depth, "seed": seed, "mu": RNG.normal(centre + 0.01 * seed, 0.01, 200)})
            for depth in (20, 32)
            for net, centre in (("plain", 0.1), ("residual", 0.2))
            for seed in range(3)
        ]
    )
    assert verdicts(scorecard.claims_fig3(samples)) == ["holds", "holds"]
    swapped = samples.assign(net=samples.net.map({"plain": "residual", "residual": "plain"}))
    assert verdicts(scorecard.claims_fig3(swapped)) == ["fails", "fails"]
    assert verdicts(scorecard.claims_cushion_full(samples[samples.depth == 20])) == ["holds"]
    assert verdicts(scorecard.claims_cushion_full(samples[(samples.depth == 20) & (samples.seed == 0)])) == [
        "inconclusive"
    ]


def test_fig3_histogram_pools_the_seeds():
    samples = pd.concat(
        [
            pd.DataFrame({"net": net, "depth": 20, "seed": seed, "mu": RNG.normal(c, 0.01, 100)})
            for net, c in (("plain", 0.1), ("residual", 0.2))
            for seed in range(3)
        ]
    )
    _, data = figures.fig3(samples, {("plain", 20): 0.3, ("residual", 20): 0.2}, layer=10)
    assert data.groupby("net")["count"].sum().eq(300).all() and (data.seeds == 3).all()


def paper_like(arch, net, stage, layer, seed):
    """Residual σ rising with the layer above a flat plain σ, both lower at the last stage."""
    base = 0.2 + 0.01 * seed - (0.05 if stage == "last" else 0)
    return base + (0.03 * layer if net == "residual" else 0) + 0.001 * ((seed * 7 + layer) % 3)


def test_fig12_claims_read_every_seed():
    assert verdicts(scorecard.claims_fig12(sigma_frame(paper_like))) == ["holds"] * 4
    flat = sigma_frame(
        lambda arch, net, stage, layer, seed: (0.3 if stage == "first" else 0.4) + 0.01 * ((seed + layer) % 2)
    )
    assert verdicts(scorecard.claims_fig12(flat)) == ["inconclusive", "inconclusive", "fails", "inconclusive"]
    assert verdicts(scorecard.claims_fig12(sigma_frame(paper_like, seeds=1))) == ["inconclusive"] * 4


def test_table3_claims_read_each_seeds_vectors():
    rows = [
        {"vector": v, "seed": s, "mass_id": mid + s, "mass_large": ml + s}
        for s in range(3)
        for v, mid, ml in (("p_0", 67, 420), ("p_end", 72, 700), ("t_0", 1100, 1100), ("t_end", 1000, 1300))
    ]
    assert verdicts(scorecard.claims_table3(pd.DataFrame(rows))) == ["holds"] * 3


def test_lw_appc_claim_weighs_each_seeds_first_and_last_mean_norm():
    norms = pd.DataFrame(
        [
            {
                "dataset": "cifar10",
                "seed": s,
                "epoch": e,
                "layer": layer,
                "absorbed_norm": 5 + e + 0.1 * s + 0.01 * layer,
            }
            for s in range(3)
            for e in range(3)
            for layer in range(1, 4)
        ]
    )
    assert verdicts(scorecard.claims_lw_appc(norms)) == ["holds"]
    assert verdicts(scorecard.claims_lw_appc(norms.assign(absorbed_norm=10 - norms.absorbed_norm))) == ["fails"]
    assert verdicts(scorecard.claims_lw_appc(norms[norms.seed == 0])) == ["inconclusive"]


# ---------------------------------------------------------------- exact checks


def test_fig6_claims_read_the_first_step_and_the_growth():
    def steps(diffs):
        return pd.DataFrame(
            [{"seed": 0, "iteration": i + 1, "epoch": e, "abs_diff": d} for i, (e, d) in enumerate(diffs)]
        )

    assert verdicts(scorecard.claims_fig6(steps([(1, 1e-16), (1, 1e-15), (2, 1e-9)]))) == ["holds", "holds"]
    assert verdicts(scorecard.claims_fig6(steps([(1, 1e-3), (1, 1e-2), (2, 1e-9)]))) == ["fails", "fails"]
    # too short to tell, though the data is there: one epoch, or a pair still exactly equal at the end
    assert verdicts(scorecard.claims_fig6(steps([(1, 0.0), (1, 1e-16)]))) == ["holds", "inconclusive"]
    still_equal = scorecard.claims_fig6(steps([(1, 0.0), (2, 0.0)]))
    assert verdicts(still_equal) == ["holds", "inconclusive"] and "still exactly equal" in still_equal[1].detail


def test_fig7_and_fig10_claims():
    hist = pd.DataFrame(
        [
            {"vector": "t_end", "panel": "id", "left": 0.85, "right": 0.95, "count": 90, "large": 0},
            {"vector": "t_end", "panel": "id", "left": 0.0, "right": 0.1, "count": 3, "large": 0},
            {"vector": "p_0", "panel": "all", "left": 0, "right": 1, "count": 1, "large": 1},
            {"vector": "p_end", "panel": "all", "left": 0, "right": 1, "count": 1, "large": 26},
        ]
    )
    assert verdicts(scorecard.claims_fig7(hist)) == ["holds", "holds"]
    many = hist.assign(large=[0, 0, 1, 500])
    assert verdicts(scorecard.claims_fig7(many))[1] == "fails"
    grads = pd.DataFrame([{"mean": 1e-4, "sd": 0.01, "n": 100, "iterations": 4, "depth": 20}])
    assert verdicts(scorecard.claims_fig10(grads)) == ["holds"]
    assert verdicts(scorecard.claims_fig10(grads.assign(mean=0.01))) == ["fails"]


def test_fig7_histograms_count_every_weight_and_every_id_entry():
    from plainres.init import initialise
    from plainres.measures.weights import parameter_vector, plain_view
    from plainres.models import build_model

    vectors = {}
    for name, net, init in (
        ("p_0", "plain", "kwi"),
        ("p_end", "plain", "kwi"),
        ("t_0", "residual", "hmwi"),
        ("t_end", "residual", "hmwi"),
    ):
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


def test_fig7_leaves_out_a_diverged_runs_vectors_and_names_it():
    w = torch.linspace(-1, 1, 101, dtype=torch.float64)
    is_id = torch.zeros(101, dtype=torch.bool)
    is_id[::10] = True
    fig, data = figures.fig7(
        {"t_0": (w, is_id), "t_end": (w, is_id)}, depth=8, clip=100, diverged={"p_0": "plain-s0", "p_end": "plain-s0"}
    )
    assert set(data.vector) == {"t_0", "t_end"} and data[data.panel == "all"]["count"].sum() == 2 * 101
    assert "$p$ (KWI): run plain-s0 diverged, left out" in legend_texts(fig)
    rows = scorecard.claims_fig7(data)
    assert rows[1].verdict == "not testable"
    fig, data = figures.fig7({}, depth=8, clip=100, diverged={"t_0": "r", "t_end": "r", "p_0": "p", "p_end": "p"})
    assert data.empty and "run r diverged" in panel_texts(fig)


def test_fig10_of_a_diverged_run_is_an_empty_panel_counted_in_the_published_numbers():
    fig, data = figures.fig10(None, depth=20, iterations=0, diverged=1)
    assert "all 1 run(s) diverged" in panel_texts(fig)
    assert [r.verdict for r in scorecard.claims_fig10(data)] == ["not testable"]
    summary = scorecard.fig10_summary(data)
    assert (summary.n == 0).all() and summary.apply(tables.cell_text, axis=1).eq("diverged (1)").all()


def test_fig11_claims_hold_on_the_simulation_and_fail_where_the_paper_would_be_wrong():
    from plainres.simulate import trivial

    defaults = {"n": 20, "eps": 0.1, "L": 10, "l": 5, "p": 0.9, "sigma_A": 0.01, "sigma_V": 0.1}
    sweeps = {"n": [5, 20], "l": [1, 5, 9], "sigma_V": [0.01, 1.0], "p": [0.5, 0.9, 1.0]}
    table = trivial.fig11_table(defaults, sweeps, trials=2000, seed=0)
    assert verdicts(scorecard.claims_fig11(table)) == ["holds"] * 5
    broken = table.copy()
    broken.loc[broken.net == "residual", "approx_eq11"] += 0.1  # an approximation off by 0.1
    assert verdicts(scorecard.claims_fig11(broken))[0] == "fails"
    plain_above = table.copy()
    plain_above.loc[plain_above.net == "plain", "mean"] = 1.0
    assert verdicts(scorecard.claims_fig11(plain_above))[-1] == "fails"
    within_noise = table.copy()  # residual above plain at every point, but by far less than its Monte Carlo se
    residual = within_noise[within_noise.net == "residual"].set_index(["parameter", "value"])["mean"]
    plain = within_noise.net == "plain"
    keys = list(zip(within_noise.parameter[plain], within_noise.value[plain]))
    within_noise.loc[plain, "mean"] = residual.loc[keys].to_numpy() - 1e-9
    assert verdicts(scorecard.claims_fig11(within_noise))[-1] == "inconclusive"


def test_fig13_claims_read_the_quadrature_and_the_largest_error():
    from plainres.simulate import gaussian

    table = gaussian.phi_table(1e-2, 1e2, 21).assign(kind="grid")
    worst = gaussian.approx_max_error(1.2, 1e-2, 1e2, 2001)
    rows = pd.concat(
        [
            table,
            pd.DataFrame([{"kind": "max_error", "r": worst["r"], "approx_error": worst["error"]}]),
            gaussian.phi_monte_carlo_table([0.5, 2.0], 20000, 0).assign(kind="monte_carlo"),
        ]
    )
    assert verdicts(scorecard.claims_fig13(rows)) == ["holds", "holds"]
    off = rows.assign(phi_integral=rows.phi_integral * (1 + 1e-6))
    assert verdicts(scorecard.claims_fig13(off))[0] == "fails"
    coarse = rows.assign(approx_error=rows.approx_error * 2)  # c far from 1.2 would leave ≈ 0.016
    assert verdicts(scorecard.claims_fig13(coarse))[1] == "fails"


def test_lw_ensemble_claims_hold_on_the_exact_series_and_fail_on_wrong_ones():
    from plainres.simulate import ensemble

    abc = ensemble.fig1_abc_table(100, [0.1, 0.5, 2.0])
    assert verdicts(scorecard.claims_lw_fig1_abc(abc)) == ["holds"]
    assert verdicts(scorecard.claims_lw_fig1_abc(abc.assign(beta=-abc.beta))) == ["fails"]  # order reversed
    t1 = ensemble.theorem1_table([0.5, 2.0], [10, 330, 3300])
    assert verdicts(scorecard.claims_lw_theorem1(t1)) == ["holds"]
    assert verdicts(scorecard.claims_lw_theorem1(t1.assign(fraction=t1.fraction + 0.01))) == ["fails"]
    f = ensemble.fig1_f_table(50, np.logspace(-2, 2, 41))
    assert verdicts(scorecard.claims_lw_fig1_f(f)) == ["holds"]
    assert verdicts(scorecard.claims_lw_fig1_f(f.assign(theta_k=f.theta_k[::-1].values))) == ["fails"]


def _mlp_data(skip, first, seeds=(0, 1, 2), noise=0.01):
    """Fig 1(d)'s plotted rows for a mean λ₂.. curve `skip` and a λ₁ curve `first` (at iterations 0, 10, ..,
    100), each seed's shifted by its own small offset; stages at 0, 50, 100."""
    its = np.arange(0, 101, 10)
    rows = []
    for k, seed in enumerate(seeds):
        shift = noise * (k - 1)
        for series, curve in (("mean lambda_2..L", skip), ("lambda_1", first)):
            rows += [("over training", series, seed, 0.05, t, np.nan, v + shift) for t, v in zip(its, curve)]
        for t in (0, 50, 100):
            i = t // 10
            rows += [("by layer", f"iteration {t}", seed, 0.05, t, 1, first[i] + shift)]
            rows += [("by layer", f"iteration {t}", seed, 0.05, t, layer, skip[i] + shift) for layer in (2, 3)]
    sweep = [("sweep", "mean lambda_2..L", 0, lr, t, np.nan, v * lr) for lr in (0.01, 1.0) for t, v in zip(its, skip)]
    return pd.DataFrame(rows + sweep, columns=figures.lw.MLP_COLUMNS)


def test_lw_mlp_claims_weigh_the_seeds_late_trend_and_stage_order():
    dip_then_rise = np.r_[1.0, 0.8, 0.6, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85]
    rising = np.linspace(1, 2, 11)
    rows = scorecard.claims_lw_fig1_d(_mlp_data(dip_then_rise, rising))
    assert [r.key for r in rows] == ["lw_fig1_d.late_rise", "lw_fig1_d.stages_higher", "lw_fig1_d.first_layer"]
    assert verdicts(rows) == ["holds", "fails", "holds"]  # the dip: the first stage step falls
    assert "1 of 2 steps hold; weakest: iteration 0 → 50" in rows[1].detail
    assert "lr 0.01: 0.01 → lowest 0.005 at iteration 30 → 0.0085" in rows[1].detail  # the sweep as evidence
    rows = scorecard.claims_lw_fig1_d(_mlp_data(rising, rising[::-1]))
    assert verdicts(rows) == ["holds", "holds", "fails"]
    assert verdicts(scorecard.claims_lw_fig1_d(_mlp_data(rising, rising, seeds=(0, 1)))) == ["inconclusive"] * 3
    its = np.arange(0, 101, 10)
    w = pd.DataFrame(
        [("w_norm", "w_norm", seed, 0.01, t, np.nan, 7 + t / 10 + seed / 100) for seed in range(3) for t in its],
        columns=figures.lw.MLP_COLUMNS,
    )
    assert verdicts(scorecard.claims_lw_fig1_e(w, {"stages": 6})) == ["holds"]
    assert verdicts(scorecard.claims_lw_fig1_e(w.assign(value=-w.value), {"stages": 6})) == ["fails"]


# ---------------------------------------------------------------- the page


def test_the_page_counts_the_verdicts_and_names_the_scale():
    claim_data = {
        "yt_table1": runs(PAPER_T1),
        "yt_fig9": curves(fig9_curve, nets=(("plain", "kwi"), ("plain", "t-hmwi")), depths=(32, 44)),
    }
    page = scorecard.render(
        {},
        {},
        claim_data,
        {"yt_fig9": FIG9},
        "quick",
        "synthetic",
        ["smoke", "quick", "laptop", "paper"],
        {"yt_table1.L": "laptop"},
    )
    assert "Scale: **quick**" in page
    assert "**9 claims: 7 holds, 0 fails, 0 inconclusive, 2 below scale, 0 not testable.**" in page
    assert page.count("below scale (shows from `laptop`)") == 2
    claim_lines = [line for line in page.splitlines() if line.startswith("| yt_")]
    assert all(line.count(" | ") == 4 for line in claim_lines)  # no stray pipes in a row


def test_a_smallest_scale_for_a_claim_its_target_never_makes_is_refused_by_name():
    claim_data = {"yt_table1": runs(PAPER_T1)}
    ladder = ["smoke", "quick", "laptop", "paper"]
    with pytest.raises(ValueError, match=r"claims.show_from names no claim of its target: yt_table1\.l\b"):
        scorecard.rows_of(claim_data, {}, "quick", ladder, {"yt_table1.L": "laptop", "yt_table1.l": "laptop"})
    # a key of a target this build does not score is left alone
    assert scorecard.rows_of(claim_data, {}, "quick", ladder, {"yt_fig9.nonsense": "paper"})
