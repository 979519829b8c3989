"""LW's ensemble of path lengths (Eq. 15, Theorems 1 and 5, Eqs. 31 and 33) against hand-worked closed forms,
exact rational arithmetic and the theorems themselves."""

import math
import warnings
from fractions import Fraction

import matplotlib.pyplot as plt
import numpy as np
import pytest

from plainres import figures
from plainres.simulate import ensemble
from plainres.simulate.ensemble import (
    effective_depth,
    epsilons,
    fig1_abc_table,
    fig1_f_table,
    log_epsilons,
    log_spin_glass_moments,
    mode_is_tied,
    theorem1_table,
    theorem5_bound,
    theta_from_ratio,
    theta_k,
)

BETAS = [0.05, 0.1, 0.5, 1.0, 2.0, 9.0, 40.0]
# β as exact rationals, with β/(1+β) = 1/11, 1/3, 1/2, 2/3, 9/10
EXACT_BETAS = [Fraction(1, 10), Fraction(1, 2), Fraction(1), Fraction(2), Fraction(9)]


def theta_of(x: float) -> float:
    """LW Eq. 33 written out for x = v″/v′."""
    return 0.5 * math.log(x) - (x - 1) / (x + 1)


def exact_weights(p: int, beta: Fraction, r_start: int = 1) -> dict[int, Fraction]:
    """ε_r² as exact rationals: C(p−1, r−1)²·β^{2r}, normalised over r = r_start..p."""
    a = {r: Fraction(math.comb(p - 1, r - 1)) ** 2 * beta ** (2 * r) for r in range(r_start, p + 1)}
    z = sum(a.values())
    return {r: v / z for r, v in a.items()}


# ---------------------------------------------------------------- small cases by hand


@pytest.mark.parametrize("beta", BETAS)
def test_epsilons_small_p_closed_forms(beta):
    # p = 1: ε = (1); p = 2: ε ∝ (C(1,0)β, C(1,1)β²) ∝ (1, β); p = 3: ε ∝ (β, 2β², β³) ∝ (1, 2β, β²)
    np.testing.assert_allclose(epsilons(1, beta), [1.0], rtol=1e-15)
    np.testing.assert_allclose(epsilons(2, beta), np.array([1, beta]) / math.sqrt(1 + beta**2), rtol=1e-13)
    np.testing.assert_allclose(
        epsilons(3, beta), np.array([1, 2 * beta, beta**2]) / math.sqrt(1 + 4 * beta**2 + beta**4), rtol=1e-13
    )
    # r_start = 2 renormalises over r = 2..p: p = 3 gives ε ∝ (2β², β³) ∝ (2, β)
    np.testing.assert_allclose(epsilons(3, beta, r_start=2), np.array([2, beta]) / math.sqrt(4 + beta**2), rtol=1e-13)


@pytest.mark.parametrize("beta", BETAS)
def test_theta_k_small_p_closed_forms(beta):
    b2 = beta**2
    # p = 1: v′ = 1, v″ = 0, θ = −∞
    assert theta_k(1, beta) == -np.inf
    # p = 2, r = 1..2: ε² = (1, β²)/(1+β²); v′ = (1+2β²)/(1+β²), v″ = 2β²/(1+β²); x = 2β²/(1+2β²),
    # (x−1)/(x+1) = −1/(1+4β²)
    assert theta_k(2, beta) == pytest.approx(0.5 * math.log(2 * b2 / (1 + 2 * b2)) + 1 / (1 + 4 * b2), rel=1e-13)
    # p = 2, r = 2 only: x = 1, θ = 0 = Theorem 5's bound ½log 1 − (1 − 1)
    assert theta_k(2, beta, r_start=2) == pytest.approx(0.0, abs=1e-15)
    # p = 3, r = 1..3: ε² ∝ (1, 4β², β⁴); v′ ∝ 1 + 8β² + 3β⁴, v″ ∝ 8β² + 6β⁴; (x−1)/(x+1) = (3β⁴−1)/(1+16β²+9β⁴)
    x = (8 * b2 + 6 * b2**2) / (1 + 8 * b2 + 3 * b2**2)
    expected = 0.5 * math.log(x) - (3 * b2**2 - 1) / (1 + 16 * b2 + 9 * b2**2)
    assert theta_k(3, beta) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # p = 3, r = 2..3: ε² ∝ (4, β²); v′ ∝ 8 + 3β², v″ ∝ 8 + 6β²; (x−1)/(x+1) = 3β²/(16+9β²)
    expected = 0.5 * math.log((8 + 6 * b2) / (8 + 3 * b2)) - 3 * b2 / (16 + 9 * b2)
    assert theta_k(3, beta, r_start=2) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    # the moments themselves for p = 2 (normalised over r = 1..2)
    log_v1, log_v2 = log_spin_glass_moments(2, beta)
    assert math.exp(log_v1) == pytest.approx((1 + 2 * b2) / (1 + b2), rel=1e-13)
    assert math.exp(log_v2) == pytest.approx(2 * b2 / (1 + b2), rel=1e-13)


def test_theta_is_eq33_of_the_ratio():
    for x in [1e-6, 0.3, 1.0, 2.0, 99.0, 1e5]:
        assert theta_from_ratio(math.log(x)) == pytest.approx(theta_of(x), rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("p", [1, 2, 3, 7])
def test_effective_depth_small_p_by_ratio(p):
    # ε_{r+1}/ε_r = β(p−r)/r: the smallest r at which the ratio drops to ≤ 1, by exact rationals
    for beta in EXACT_BETAS:
        r = 1
        while r < p and beta * (p - r) > r:
            r += 1
        assert effective_depth(p, float(beta)) == r


# ---------------------------------------------------------------- exact arithmetic where nothing overflows


@pytest.mark.parametrize("beta", EXACT_BETAS)
@pytest.mark.parametrize("r_start", [1, 2])
def test_log_space_equals_exact_fractions(beta, r_start):
    for p in range(max(2, r_start), 51):
        w = exact_weights(p, beta, r_start)
        exact_log_eps = [0.5 * (math.log(v.numerator) - math.log(v.denominator)) for v in w.values()]
        np.testing.assert_allclose(log_epsilons(p, float(beta), r_start), exact_log_eps, rtol=0, atol=1e-12)
        np.testing.assert_allclose(
            epsilons(p, float(beta), r_start), [math.sqrt(v) for v in w.values()], rtol=1e-12, atol=0
        )
        x = sum(v * r * (r - 1) for r, v in w.items()) / sum(v * r for r, v in w.items())
        expected = 0.5 * math.log(x) - float((x - 1) / (x + 1)) if x > 0 else -math.inf
        assert theta_k(p, float(beta), r_start) == pytest.approx(expected, rel=1e-12, abs=1e-12)
        if r_start == 1:  # the smallest exact maximiser of ε_r
            top = max(w.values())
            assert effective_depth(p, float(beta)) == min(r for r, v in w.items() if v == top)


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0, 2.0, 9.0, 0.37])
def test_log_space_equals_direct_float64(beta):
    for p in [1, 2, 5, 20, 50]:
        direct = np.array([math.comb(p - 1, r - 1) * beta**r for r in range(1, p + 1)])
        direct /= np.sqrt(np.sum(direct**2))
        np.testing.assert_allclose(epsilons(p, beta), direct, rtol=1e-12, atol=0)


# ---------------------------------------------------------------- normalisation and large p


@pytest.mark.parametrize(
    ("p", "r_start"), [(1, 1), (2, 1), (2, 2), (7, 1), (7, 2), (100, 1), (100, 2), (10_000, 1), (10_000, 2)]
)
def test_sum_of_squares_is_one(p, r_start):
    eps = epsilons(p, np.array(BETAS), r_start)
    assert eps.shape == (len(BETAS), p - r_start + 1)
    np.testing.assert_allclose(np.sum(eps**2, axis=-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("p", [10_000, 100_000])
def test_large_p_finite_and_silent(p):
    betas = np.array([0.01, 0.1, 0.5, 1.0, 2.0, 9.0, 1e3])
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        log_eps = log_epsilons(p, betas)
        eps = epsilons(p, betas)
        theta = theta_k(p, betas)
        theta2 = theta_k(p, betas, r_start=2)
        depth = effective_depth(p, betas)
    assert np.all(np.isfinite(log_eps)) and np.all(np.isfinite(eps))
    np.testing.assert_allclose(np.sum(eps**2, axis=-1), 1.0, rtol=1e-10)
    assert np.all(np.isfinite(theta)) and np.all(np.isfinite(theta2))
    assert np.all(theta <= theorem5_bound(p) + 1e-12) and np.all(theta2 <= theorem5_bound(p) + 1e-12)
    # the log-space array peaks where Theorem 1's mode says (lgamma rounding is far below the gap to neighbours)
    rows = np.arange(len(betas))
    assert np.all(log_eps[rows, depth - 1] >= log_eps.max(axis=-1) - 1e-9)


# ---------------------------------------------------------------- Theorem 1


@pytest.mark.parametrize("beta", EXACT_BETAS)
def test_theorem1_limit_where_the_mode_is_an_integer(beta):
    q = beta / (1 + beta)  # β/(1+β) as an exact rational
    for k in [1, 2, 3, 10, 91, 1000, 10_000, 100_000]:
        p = q.denominator * k  # βp/(1+β) = q.numerator·k ∈ ℕ, Theorem 1's assumption
        r = int(effective_depth(p, float(beta)))
        assert abs(Fraction(r, p) - q) <= Fraction(1, p)
        assert r == q * p  # the smaller of the two modes: the limit exactly
        assert mode_is_tied(p, float(beta))


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0, 2.0, 9.0])
def test_theorem1_tie_is_real_and_broken_to_the_smaller_r(beta):
    q = Fraction(beta).limit_denominator(100) / (1 + Fraction(beta).limit_denominator(100))
    for p in [q.denominator * k for k in (1, 4, 30, 900)]:
        m = int(q * p)
        log_eps = log_epsilons(p, beta)
        if m < p:  # ε_m = ε_{m+1}: both maximal, up to lgamma rounding
            assert log_eps[m - 1] == pytest.approx(log_eps[m], abs=1e-9)
        assert log_eps[m - 1] >= log_eps.max() - 1e-9
        assert effective_depth(p, beta) == m


@pytest.mark.parametrize("beta", [0.1, 0.37, 1.0, 2.0, 9.0])
def test_theorem1_argmax_matches_log_space_and_converges(beta):
    limit = beta / (1 + beta)
    for p in range(1, 1201):
        assert abs(effective_depth(p, beta) / p - limit) < 1 / p + 1e-15
    for p in [11, 101, 997, 10_007]:  # no ties: the numerical argmax of log ε is the mode, uniquely
        if mode_is_tied(p, beta):
            continue
        log_eps = log_epsilons(p, beta)
        assert np.argmax(log_eps) + 1 == effective_depth(p, beta)


def test_effective_depth_vectorised_and_beyond_lgamma():
    betas = np.array([[0.1, 0.5], [2.0, 9.0]])
    depths = effective_depth(10**9, betas)
    assert depths.shape == (2, 2) and depths.dtype == np.int64
    np.testing.assert_allclose(depths / 10**9, betas / (1 + betas), atol=1e-9)
    assert effective_depth(50, 1e-6) == 1 and effective_depth(50, 1e6) == 50


# ---------------------------------------------------------------- Theorem 5


@pytest.mark.parametrize("p", [2, 3, 5, 10, 100, 1000])
@pytest.mark.parametrize("r_start", [1, 2])
def test_theorem5_bound_holds_and_theta_grows_with_beta(p, r_start):
    betas = np.logspace(-3, 4, 71)
    bound = 0.5 * math.log(p - 1) - (1 - 2 / p)  # LW Eq. 50: θ_k at ε_r = δ_{r,p} (v′ = p, v″ = p(p−1))
    assert theorem5_bound(p) == pytest.approx(bound, rel=1e-15, abs=1e-15)
    assert theorem5_bound(p) == pytest.approx(theta_of(p * (p - 1) / p), rel=1e-12, abs=1e-15)
    theta = theta_k(p, betas, r_start)
    assert np.all(theta <= bound + 1e-12)
    assert np.all(np.diff(theta) >= -1e-12)  # deeper ensembles, more critical points (Fig. 1(f))


@pytest.mark.parametrize("p", [3, 10, 100])
def test_theorem5_equality_approached_as_beta_grows(p):
    bound = 0.5 * math.log(p - 1) - (1 - 2 / p)
    betas = p * np.logspace(1, 5, 5)  # the gap falls like (p/β)², to 1e-12 here, above float64 rounding
    gaps = bound - theta_k(p, betas, r_start=2)
    assert np.all(gaps >= -1e-12) and np.all(np.diff(gaps) < 0)
    assert gaps[-1] < 1e-9
    # at small β the weight sits on r = 2 (x = 1, θ = 0) with r_start = 2, on r = 1 (θ → −∞) with r_start = 1
    assert theta_k(p, 1e-6, r_start=2) == pytest.approx(0.0, abs=1e-9)
    assert theta_k(p, 1e-9) < -10


# ---------------------------------------------------------------- vectorisation and input checks


def test_vectorised_over_beta_and_chunked(monkeypatch):
    betas = np.array([[0.1, 0.5, 2.0], [9.0, 1.0, 0.3]])
    theta = theta_k(40, betas, r_start=2)
    assert theta.shape == betas.shape
    one_by_one = np.array([[theta_k(40, b, r_start=2) for b in row] for row in betas])
    np.testing.assert_allclose(theta, one_by_one, rtol=1e-14, atol=1e-15)
    assert log_epsilons(40, betas).shape == (2, 3, 40)
    monkeypatch.setattr(ensemble, "CHUNK", 50)  # one β per chunk
    np.testing.assert_allclose(theta_k(40, betas, r_start=2), theta, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    "call",
    [
        lambda: log_epsilons(0, 1.0),
        lambda: log_epsilons(2.5, 1.0),
        lambda: log_epsilons(5, 0.0),
        lambda: log_epsilons(5, [1.0, -2.0]),
        lambda: theta_k(5, np.inf),
        lambda: theta_k(5, 1.0, r_start=6),
        lambda: theta_k(5, 1.0, r_start=0),
        lambda: theorem5_bound(1),
    ],
)
def test_bad_input_fails(call):
    with pytest.raises(ValueError):
        call()


# ---------------------------------------------------------------- tables and figures


def test_fig1_abc_table_and_figure():
    table = fig1_abc_table(6, [0.5, 2.0])
    assert list(table.columns) == ["beta", "p", "r", "epsilon"] and len(table) == 12
    np.testing.assert_allclose(table.groupby("beta").epsilon.apply(lambda e: np.sum(e**2)), 1.0, rtol=1e-13)
    np.testing.assert_allclose(table[table.beta == 2.0].epsilon, epsilons(6, 2.0))
    fig, data = figures.lw_fig1_abc(table)
    axes = fig.get_axes()
    assert len(axes) == 2 and "β = 0.5, p = 6" in axes[0].get_title() and "β = 2, p = 6" in axes[1].get_title()
    assert len(axes[1].patches) == 6
    np.testing.assert_allclose([bar.get_height() for bar in axes[1].patches], epsilons(6, 2.0))
    assert data.equals(table)
    plt.close(fig)


def test_theorem1_table_and_figure():
    table = theorem1_table([0.5, 2.0], [3, 10, 300])
    assert list(table.columns) == ["beta", "p", "argmax", "fraction", "limit", "tie", "log_eps_gap"] and len(table) == 6
    assert table.log_eps_gap.between(0, 1e-12).all()
    row = table[(table.beta == 2.0) & (table.p == 300)].iloc[0]
    assert row["argmax"] == 200 and row["fraction"] == pytest.approx(2 / 3) and row["limit"] == pytest.approx(2 / 3)
    assert row["tie"]
    assert not table[(table.beta == 0.5) & (table.p == 10)].tie.iloc[0]  # 10/3 ∉ ℕ: mode ⌈10/3⌉ = 4
    assert table[(table.beta == 0.5) & (table.p == 10)].argmax.iloc[0] == 4
    fig, data = figures.lw_theorem1(table)
    ax = fig.get_axes()[0]
    assert ax.get_xscale() == "log" and len(data) == 6
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--" and len(line.get_ydata()) == 2]
    assert sorted(round(line.get_ydata()[0], 12) for line in dashed) == [round(1 / 3, 12), round(2 / 3, 12)]
    plt.close(fig)


def test_fig1_f_table_and_figure():
    import pandas as pd

    betas = np.logspace(-2, 2, 9)
    table = pd.concat([fig1_f_table(20, betas, r_start=1), fig1_f_table(20, betas, r_start=2)], ignore_index=True)
    assert list(table.columns) == ["beta", "p", "r_start", "theta_k", "v1", "v2", "bound"] and len(table) == 18
    np.testing.assert_allclose(table.theta_k, [theta_of(x) for x in table.v2 / table.v1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(table[table.r_start == 2].theta_k, theta_k(20, betas, r_start=2))
    fig, data = figures.lw_fig1_f(table)
    ax = fig.get_axes()[0]
    assert ax.get_xscale() == "log" and len(data) == 18
    bound_lines = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(bound_lines) == 1 and bound_lines[0].get_ydata()[0] == pytest.approx(theorem5_bound(20))
    plt.close(fig)


@pytest.mark.parametrize("p", [5, 100, 10_000])
def test_beta_and_its_inverse_mirror_the_ensemble(p):
    # C(p−1, r−1)·β^r ∝ C(p−1, p−r)·β^{−(p+1−r)}: β ↔ 1/β maps r ↔ p + 1 − r, and Σε² = 1 fixes the scale
    for beta in [0.1, 0.5, 3.0]:
        np.testing.assert_allclose(epsilons(p, 1 / beta)[::-1], epsilons(p, beta), rtol=1e-9, atol=1e-300)
