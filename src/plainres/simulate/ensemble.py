"""LW's ensemble of path lengths, exactly, in log space: ε_r (Eq. 15, Fig. 1(a–c)), its mode (Theorem 1)
and the critical-point exponent θ_k of the general spherical spin glass (Eqs. 31, 33, Fig. 1(f), Theorem 5).

ε_r ∝ C(p−1, r−1)·β^r, r = 1..p, normalised so Σ ε_r² = 1. Every quantity is formed from log ε_r =
gammaln terms + r·log β and log-sum-exp in float64, so p = 10⁵ (and beyond) neither overflows nor underflows
to NaN. β may be a scalar or any array; the results carry its shape (with a trailing r axis for ε).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import gammaln, logsumexp

TIE_RTOL = 1e-12  # pβ/(1+β) within this relative distance of an integer counts as one (see effective_depth)
CHUNK = 1 << 22  # β values × path lengths handled at once by the sums (≈ 32 MB per float64 temporary)


def _check(p: int, r_start: int) -> int:
    if int(p) != p or p < 1:
        raise ValueError(f"p must be a positive integer, got {p!r}")
    if int(r_start) != r_start or not 1 <= r_start <= p:
        raise ValueError(f"r_start must be an integer in 1..p={p}, got {r_start!r}")
    return int(p)


def _betas(beta) -> np.ndarray:
    b = np.asarray(beta, dtype=np.float64)
    if not np.all(np.isfinite(b) & (b > 0)):
        raise ValueError("β must be positive and finite")
    return b


def path_lengths(p: int, r_start: int = 1) -> np.ndarray:
    """The path lengths r = r_start..p (float64), the last axis of log_epsilons."""
    p = _check(p, r_start)
    return np.arange(r_start, p + 1, dtype=np.float64)


def log_epsilons(p: int, beta, r_start: int = 1) -> np.ndarray:
    """log ε_r, r = r_start..p, with ε_r ∝ C(p−1, r−1)·β^r normalised so Σ_{r ≥ r_start} ε_r² = 1 (LW Eq. 15).

    Shape: beta.shape + (p − r_start + 1,). r_start = 2 gives the spin-glass convention of LW Eqs. 28–31
    (interactions of order r ≥ 2, renormalised over them)."""
    r = path_lengths(p, r_start)
    b = _betas(beta)[..., None]
    log_eps = gammaln(p) - gammaln(r) - gammaln(p - r + 1) + r * np.log(b)
    log_eps -= log_eps.max(axis=-1, keepdims=True)  # O(1) near the mode, so the normaliser rounds finely
    return log_eps - 0.5 * logsumexp(2 * log_eps, axis=-1, keepdims=True)


def epsilons(p: int, beta, r_start: int = 1) -> np.ndarray:
    """ε_r, r = r_start..p (LW Eq. 15); exp of log_epsilons (terms far from the mode underflow to 0)."""
    return np.exp(log_epsilons(p, beta, r_start))


def effective_depth(p: int, beta, rtol: float = TIE_RTOL) -> np.ndarray:
    """argmax_r ε_r (LW Theorem 1): ⌈pβ/(1+β)⌉ (at least 1), the smallest maximiser.

    ε_{r+1}/ε_r = β(p−r)/r, so ε_r rises while r < m = pβ/(1+β) and falls after: the mode of a binomial.
    When m ∈ ℕ (Theorem 1's assumption) it is two-valued, ε_m = ε_{m+1} exactly; we return the smaller, m
    itself, so argmax/p = β/(1+β) exactly there. m within rtol·m of an integer counts as that integer, since a
    float β such as 0.1 is not exactly 1/10. Exact (no lgamma rounding), so any p works."""
    _check(p, 1)
    m = p * _betas(beta) / (1 + _betas(beta))
    k = np.rint(m)
    r = np.where(np.abs(m - k) <= rtol * np.maximum(m, 1.0), k, np.ceil(m))
    return np.maximum(r, 1).astype(np.int64)


def mode_is_tied(p: int, beta, rtol: float = TIE_RTOL) -> np.ndarray:
    """Whether pβ/(1+β) ∈ ℕ (within rtol), i.e. ε_m = ε_{m+1}: the two-valued mode of effective_depth."""
    _check(p, 1)
    m = p * _betas(beta) / (1 + _betas(beta))
    return np.abs(m - np.rint(m)) <= rtol * np.maximum(m, 1.0)


def log_spin_glass_moments(p: int, beta, r_start: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(log v′, log v″) with v′ = Σ ε_r² r, v″ = Σ ε_r² r(r−1), r = r_start..p (LW Eq. 31), ε from
    log_epsilons(p, beta, r_start). log v″ = −∞ when p = 1 (no term with r ≥ 2)."""
    r = path_lengths(p, r_start)
    b = _betas(beta)
    flat = b.reshape(-1)
    log_v1 = np.empty(flat.shape)
    log_v2 = np.full(flat.shape, -np.inf)
    pairs = r >= 2
    log_r, log_pairs = np.log(r), np.log(r[pairs]) + np.log(r[pairs] - 1)
    step = max(1, CHUNK // r.size)
    for i in range(0, flat.size, step):
        log_eps2 = 2 * log_epsilons(p, flat[i : i + step], r_start)
        log_v1[i : i + step] = logsumexp(log_eps2 + log_r, axis=-1)
        if pairs.any():
            log_v2[i : i + step] = logsumexp(log_eps2[:, pairs] + log_pairs, axis=-1)
    return log_v1.reshape(b.shape), log_v2.reshape(b.shape)


def theta_from_ratio(log_ratio) -> np.ndarray:
    """θ_k = ½·log x − (x−1)/(x+1) with log x = log(v″/v′) (LW Eq. 33); (x−1)/(x+1) = tanh(½·log x).
    Increasing in x, which is why Theorem 5 holds: x = v″/v′ ≤ p − 1 with equality iff all weight is on r = p."""
    half = 0.5 * np.asarray(log_ratio, dtype=np.float64)
    return half - np.tanh(half)


def theta_k(p: int, beta, r_start: int = 1) -> np.ndarray:
    """θ_k(ℝ, ε) = ½·log(v″/v′) − (v″−v′)/(v″+v′) (LW Eq. 33, v′ and v″ of Eq. 31 summed over r = r_start..p).

    The paper's spin glass sums start at r = 2 (Eqs. 28–31) while ε_r runs over r = 1..p; the default
    r_start = 1 follows REPRODUCTION.md. θ_k does not depend on how ε is normalised (only on v″/v′).
    p = 1 with r_start = 1 gives −∞ (v″ = 0)."""
    log_v1, log_v2 = log_spin_glass_moments(p, beta, r_start)
    return theta_from_ratio(log_v2 - log_v1)


def theorem5_bound(p: int) -> float:
    """max_ε θ_k = ½·log(p−1) − (1 − 2/p), attained by ε_r = δ_{r,p} (LW Theorem 5, Eq. 50).

    Eq. 50's proof subtracts min_r (r−2)/r, which is 0 (at r = 2), not 1 − 2/p; the bound holds all the same,
    for either r_start, because θ_k is increasing in x = v″/v′ (see theta_from_ratio) and x ≤ p − 1."""
    _check(p, 1)
    if p < 2:
        raise ValueError("Theorem 5 needs p > 1")
    return 0.5 * math.log(p - 1) - (1 - 2 / p)


# ---------------------------------------------------------------- tidy tables for the figures


def fig1_abc_table(p: int, betas) -> pd.DataFrame:
    """LW Fig. 1(a–c): one row per (β, r), columns beta, p, r, epsilon (ε_r of Eq. 15, r = 1..p)."""
    b = _betas(betas).reshape(-1)
    r = path_lengths(p).astype(np.int64)
    eps = epsilons(p, b)
    return pd.DataFrame(
        {"beta": np.repeat(b, r.size), "p": int(p), "r": np.tile(r, b.size), "epsilon": eps.reshape(-1)}
    )


def theorem1_table(betas, ps) -> pd.DataFrame:
    """LW Theorem 1: one row per (β, p), columns beta, p, argmax (effective_depth), fraction = argmax/p,
    limit = β/(1+β), tie (pβ/(1+β) ∈ ℕ, where the mode is two-valued and the smaller r is taken) and
    log_eps_gap = max_r log ε_r − log ε_argmax from the log-space ε (0 up to lgamma rounding: a check that the
    closed-form mode is the argmax of the computed ε; O(p) memory per row)."""
    rows = []
    for beta in _betas(betas).reshape(-1):
        for p in ps:
            k = int(effective_depth(p, beta))
            log_eps = log_epsilons(p, beta)
            rows.append(
                {
                    "beta": float(beta),
                    "p": int(p),
                    "argmax": k,
                    "fraction": k / int(p),
                    "limit": float(beta / (1 + beta)),
                    "tie": bool(mode_is_tied(p, beta)),
                    "log_eps_gap": float(log_eps.max() - log_eps[k - 1]),
                }
            )
    return pd.DataFrame(rows)


def fig1_f_table(p: int, betas, r_start: int = 1) -> pd.DataFrame:
    """LW Fig. 1(f): one row per β, columns beta, p, r_start, theta_k (Eq. 33), v1 = v′, v2 = v″ (Eq. 31,
    summed over r = r_start..p with ε normalised over the same range) and bound (Theorem 5)."""
    b = _betas(betas).reshape(-1)
    log_v1, log_v2 = log_spin_glass_moments(p, b, r_start)
    return pd.DataFrame(
        {
            "beta": b,
            "p": int(p),
            "r_start": int(r_start),
            "theta_k": theta_from_ratio(log_v2 - log_v1),
            "v1": np.exp(log_v1),
            "v2": np.exp(log_v2),
            "bound": theorem5_bound(p) if p > 1 else np.nan,
        }
    )
