"""YT's simulations: φ(r) of App. E (Fig 13) and the trivial-case Monte Carlo of App. D.4.1 (Fig 11)."""

import math

import numpy as np
import pandas as pd
import pytest

from plainres import figures
from plainres.simulate import gaussian, trivial

DEFAULTS = {"n": 20, "eps": 0.1, "L": 10, "l": 5, "p": 0.9, "sigma_A": 0.01, "sigma_V": 0.1}


# ---------------------------------------------------------------- φ(r), YT App. E


def test_phi_integral_equals_closed_form():
    r = np.geomspace(1e-4, 1e4, 81)
    np.testing.assert_allclose(gaussian.phi_integral(r), gaussian.phi_closed(r), rtol=0, atol=1e-8)


def test_phi_at_one_is_half_and_symmetric():
    assert gaussian.phi_integral(1.0) == pytest.approx(0.5, abs=1e-12)
    assert gaussian.phi_closed(1.0) == pytest.approx(0.5, abs=1e-15)
    assert gaussian.phi_approx(1.0) == 0.5
    r = np.geomspace(1e-3, 1e3, 25)
    np.testing.assert_allclose(gaussian.phi_integral(r) + gaussian.phi_integral(1 / r), 1.0, atol=1e-10)
    np.testing.assert_allclose(gaussian.phi_approx(r) + gaussian.phi_approx(1 / r), 1.0, atol=1e-14)


def test_phi_limits_and_bad_input():
    assert gaussian.phi_integral(0.0) == 0.0 and gaussian.phi_integral(math.inf) == 1.0
    assert gaussian.phi_approx(0.0) == 0.0 and gaussian.phi_approx(math.inf) == 1.0
    with pytest.raises(ValueError):
        gaussian.phi_integral(-1.0)


def test_g_is_a_normalised_density():
    from scipy import integrate

    for sigma in (0.01, 1.0, 30.0):
        assert integrate.quad(gaussian.g, -np.inf, np.inf, args=(sigma,))[0] == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("r", [0.05, 0.5, 1.0, 3.0, 20.0])
def test_phi_monte_carlo_within_four_standard_errors(r):
    estimate, se = gaussian.phi_monte_carlo(r, 200_000, seed=int(r * 1000))
    assert se > 0
    assert abs(estimate - gaussian.phi_closed(r)) < 4 * se


def test_phi_monte_carlo_table_points_are_independent_of_each_other():
    both = gaussian.phi_monte_carlo_table([0.5, 2.0], 1000, seed=3)
    alone = gaussian.phi_monte_carlo_table([2.0], 1000, seed=3)
    pd.testing.assert_frame_equal(both.iloc[[1]].reset_index(drop=True), alone)
    assert both.seed.nunique() == 2


def test_approximation_max_error_is_what_a_dense_grid_finds():
    info = gaussian.approx_max_error(1.2, 1e-3, 1e3, 2001)
    r = np.geomspace(1e-3, 1e3, 2_000_001)
    errors = gaussian.phi_approx(r) - gaussian.phi_closed(r)
    i = np.argmax(np.abs(errors))
    assert info["abs_error"] >= info["grid_abs_error"]
    assert info["abs_error"] == pytest.approx(np.abs(errors[i]), abs=1e-10)
    # the error is odd in log r: the maximiser is r* or 1/r*, with opposite signs
    assert min(abs(math.log(info["r"] / r[i])), abs(math.log(info["r"] * r[i]))) < 1e-5
    assert abs(info["error"] + (gaussian.phi_approx(1 / info["r"]) - gaussian.phi_closed(1 / info["r"]))) < 1e-14


def test_phi_table():
    table = gaussian.phi_table(1e-2, 1e2, 41)
    assert list(table.columns[:5]) == ["r", "phi_integral", "phi_closed", "phi_approx", "approx_error"]
    assert np.all(np.diff(table.phi_integral) > 0)
    np.testing.assert_allclose(table.approx_error, table.phi_approx - table.phi_integral)


def test_fig13_returns_its_numbers():
    table = gaussian.phi_table(1e-2, 1e2, 21)
    info = gaussian.approx_max_error(1.2, 1e-2, 1e2, 201)
    mc = gaussian.phi_monte_carlo_table([0.1, 1.0, 10.0], 1000, 0)
    fig, data = figures.fig13(table, info, mc)
    assert fig.get_layout_engine() is not None
    assert set(data.kind) == {"grid", "max_error", "monte_carlo"}
    assert len(data[data.kind == "grid"]) == 21 and len(data[data.kind == "monte_carlo"]) == 3
    figures.plt.close(fig)


# ---------------------------------------------------------------- the trivial case, YT App. D.4.1


def brute_force_sigma(net, Z, S, zv, sigma_A, sigma_V, eps):
    """σ⁽ˡ⁾ per trial from the definitions, one trial and one matrix at a time: K from the same draws
    (Kᵀ = I + εσ_A Z or σ_A Z), Θ = [∏ Kᵀ S] V explicitly, r_i with Σ_{j≠i} Θ_ij, σ = fraction r_i > 1."""
    trials, depth, n, _ = Z.shape
    out = []
    for b in range(trials):
        product = np.eye(n)
        for m in range(depth):
            K = ((np.eye(n) if net == "residual" else 0) + (eps if net == "residual" else 1) * sigma_A * Z[b, m]).T
            product = product @ K.T @ np.diag(S[b, m])
        theta = product @ np.diag(sigma_V * zv[b])
        dominant = [abs(theta[i, i]) > abs(sum(theta[i, j] for j in range(n) if j != i)) for i in range(n)]
        out.append(np.mean(dominant))
    return np.array(out)


@pytest.mark.parametrize("net", trivial.NETS)
@pytest.mark.parametrize("n,L,l,p", [(3, 6, 3, 0.7), (4, 6, 0, 0.5), (5, 4, 3, 0.9), (4, 5, 2, 1.0), (1, 3, 1, 0.8)])
def test_monte_carlo_equals_brute_force(net, n, L, l, p):
    kw = {"sigma_A": 0.7, "sigma_V": 0.3, "eps": 0.4}
    trials, seed, block = 30, 11, 8
    fast = trivial.sigma_samples(net, n, L, l, p, trials=trials, seed=seed, block=block, **kw)
    Z, S, zv = trivial.draws(n, L - l, p, trials, seed, block=block)
    np.testing.assert_array_equal(fast, brute_force_sigma(net, Z, S, zv, **kw))
    assert 0 < fast.mean() < 1 or n == 1 or p < 0.6  # a case that can tell dominant from not


def test_residual_with_eps_zero_is_the_all_ones_path():
    n, L, l, p, trials = 6, 8, 3, 0.9, 20_000
    Z, S, zv = trivial.draws(n, L - l, p, 500, seed=3)
    sigma = trivial.sigma_from_draws("residual", Z, S, zv, sigma_A=0.5, sigma_V=0.1, eps=0.0)
    np.testing.assert_array_equal(sigma, S.prod(axis=1).mean(axis=1))  # σ = 1 exactly where every S_ii = 1
    mean, se = trivial.expected_sigma("residual", n, L, l, p, 0.5, 0.1, 0.0, trials, seed=4)
    assert abs(mean - p ** (L - l)) < 4 * se


@pytest.mark.parametrize("net", trivial.NETS)
def test_p_zero_gives_zero(net):
    sigma = trivial.sigma_samples(net, 5, 6, 2, 0.0, 0.3, 0.2, 0.1, trials=300, seed=0)
    assert np.all(sigma == 0)  # Θ = 0: 0/0 is not dominant


@pytest.mark.parametrize("net", trivial.NETS)
def test_sigma_V_has_no_effect_draw_by_draw(net):
    a = trivial.sigma_samples(net, 8, 6, 2, 0.9, 0.3, 0.1, 0.5, trials=2000, seed=5)
    b = trivial.sigma_samples(net, 8, 6, 2, 0.9, 0.3, 7.3, 0.5, trials=2000, seed=5)
    np.testing.assert_array_equal(a, b)


def test_plain_is_scale_invariant_and_ignores_eps():
    a = trivial.sigma_samples("plain", 8, 6, 2, 0.9, 0.01, 0.1, 0.1, trials=2000, seed=6)
    b = trivial.sigma_samples("plain", 8, 6, 2, 0.9, 5.0, 0.1, 30.0, trials=2000, seed=6)
    np.testing.assert_array_equal(a, b)
    assert 0 < a.mean() < 1


def test_residual_depends_on_eps_times_sigma_A_only():
    a = trivial.sigma_samples("residual", 8, 6, 2, 0.9, 0.5, 0.1, 0.2, trials=2000, seed=7)
    b = trivial.sigma_samples("residual", 8, 6, 2, 0.9, 0.2, 0.1, 0.5, trials=2000, seed=7)
    c = trivial.sigma_samples("residual", 8, 6, 2, 0.9, 0.02, 0.1, 0.5, trials=2000, seed=7)
    np.testing.assert_array_equal(a, b)
    assert c.mean() > a.mean() + 0.05  # smaller εσ_A: more dominant flows


def test_chunking_and_threads_do_not_change_the_result():
    kw = {
        "net": "residual",
        "n": 6,
        "L": 7,
        "l": 2,
        "p": 0.8,
        "sigma_A": 0.4,
        "sigma_V": 0.1,
        "eps": 0.5,
        "trials": 1234,
        "seed": 9,
        "block": 50,
    }
    reference = trivial.sigma_samples(**kw, chunk_bytes=1)  # one block per chunk
    np.testing.assert_array_equal(reference, trivial.sigma_samples(**kw, chunk_bytes=1 << 30))  # one chunk
    np.testing.assert_array_equal(reference, trivial.sigma_samples(**kw, chunk_bytes=60_000, threads=2))
    assert not np.array_equal(reference, trivial.sigma_samples(**kw | {"seed": 10}))


def test_p_prime_and_its_limit():
    for p in (0.3, 0.9, 0.999):
        assert trivial.p_prime(p, 5) == pytest.approx(p**2 * (1 - p**10) / (1 - p**2), rel=1e-12)
    assert trivial.p_prime(1.0, 5) == 5.0
    assert trivial.sigma_eq11(20, 0.1, 10, 5, 1.0, 0.01) == pytest.approx(
        float(trivial.sigma_conclusion(20, 0.1, 10, 5, 1.0, 0.01)), rel=1e-14
    )  # p = 1: p′ = L−l
    assert trivial.sigma_eq11(20, 0.1, 10, 5, 0.0, 0.01) == 0.0
    assert trivial.sigma_eq11(1, 0.1, 10, 5, 0.9, 0.01) == pytest.approx(0.9**5)  # n = 1: no other path
    assert trivial.sigma_eq11(20, 0.0, 10, 5, 0.9, 0.01) == pytest.approx(0.9**5)  # ε = 0: r = ∞


# Measured with 100,000 trials per point (two seeds): |Eq. 11 − Monte Carlo| ≤ 0.0045 at the defaults and
# along panels (a)–(d) for n ≥ 5, every l, σ_A ≤ 0.3 and any σ_V; the Monte Carlo exceeds Eq. 11 by 0.018–0.020
# at n = 3 and by 0.058–0.060 at n = 2 (paths that leave the identity path, ignored by Eq. 9, matter there).
CLOSE = 0.005


@pytest.mark.parametrize(
    "change", [{}, {"n": 5}, {"n": 10}, {"l": 1}, {"l": 8}, {"sigma_A": 1e-3}, {"sigma_A": 0.1}, {"sigma_V": 10.0}]
)
def test_eq11_is_close_to_the_monte_carlo_in_panels_a_to_d(change):
    q = DEFAULTS | change
    mean, se = trivial.expected_sigma("residual", **q, trials=20_000, seed=21)
    approx = trivial.sigma_eq11(q["n"], q["eps"], q["L"], q["l"], q["p"], q["sigma_A"])
    assert abs(approx - mean) < CLOSE + 4 * se


def test_eq11_misses_the_monte_carlo_for_tiny_n():
    q = DEFAULTS | {"n": 2}
    mean, se = trivial.expected_sigma("residual", **q, trials=20_000, seed=22)
    assert mean - trivial.sigma_eq11(2, q["eps"], q["L"], q["l"], q["p"], q["sigma_A"]) > 0.03 + 4 * se


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="l < L"):
        trivial.sigma_samples("plain", 4, 5, 5, 0.9, 1, 1, 1, trials=10, seed=0)
    with pytest.raises(ValueError, match="p must"):
        trivial.sigma_samples("plain", 4, 5, 2, 1.5, 1, 1, 1, trials=10, seed=0)
    with pytest.raises(ValueError, match="net"):
        trivial.sigma_samples("dense", 4, 5, 2, 0.5, 1, 1, 1, trials=10, seed=0)
    with pytest.raises(ValueError, match="unknown swept"):
        trivial.fig11_table(DEFAULTS, {"depth": [3]}, trials=10, seed=0)


def test_fig11_table_points_do_not_depend_on_order_and_nets_are_independent():
    sweeps = {"n": [3, 6], "p": [0.5, 1.0]}
    a = trivial.fig11_table(DEFAULTS | {"n": 6, "L": 6, "l": 3}, sweeps, trials=300, seed=1)
    b = trivial.fig11_table(DEFAULTS | {"n": 6, "L": 6, "l": 3}, {"p": [1.0, 0.5], "n": [6, 3]}, trials=300, seed=1)
    key = ["parameter", "value", "net"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True))
    assert len(a) == 8 and a.seed.nunique() == 8
    assert a[a.net == "plain"].approx_eq11.isna().all() and a[a.net == "residual"].approx_eq11.notna().all()
    at_p1 = a[(a.parameter == "p") & (a.value == 1.0) & (a.net == "residual")].iloc[0]
    assert at_p1.approx_eq11 == pytest.approx(at_p1.approx_conclusion)


def test_fig11_draws_every_panel():
    sweeps = {
        "n": [2, 5, 20],
        "l": [1, 4],
        "sigma_A": [1e-3, 1.0],
        "sigma_V": [0.1, 1.0],
        "p": [0.5, 1.0],
        "eps": [0.1, 10.0],
    }
    table = trivial.fig11_table(DEFAULTS | {"L": 5, "l": 3}, sweeps, trials=100, seed=0)
    fig, data = figures.fig11(table)
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 6
    assert len(data) == len(table) and {"mean", "ci95", "approx_eq11"} <= set(data.columns)
    assert "n = 20" in fig._suptitle.get_text() and "σ_A = 0.01" in fig._suptitle.get_text()
    figures.plt.close(fig)
