"""φ(r) = P[|X| > |Y|] for independent X ~ N(0, σ_X²), Y ~ N(0, σ_Y²), r = σ_X/σ_Y (YT App. E, Eq. 14),
its logistic approximation 1/(1 + r^−c) (Eq. 15, c = 1.2 in YT Fig 13) and the closed form (2/π)·arctan r.

The closed form: with X/σ_Y = r·Z₁ and Y/σ_Y = Z₂ (Z standard normal) the event is |Z₂/Z₁| < r, and
Z₂/Z₁ is standard Cauchy, so φ(r) = (2/π)·arctan r. Both φ and the approximation satisfy
f(r) + f(1/r) = 1, so the approximation's error is odd in log r: its two largest |errors| sit at r* and 1/r*.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
from scipy import integrate, optimize
from scipy.special import ndtr

QUAD_TOL = 1e-13  # absolute and relative tolerance of every quad call in phi_integral


def g(u, sigma: float = 1.0):
    """The zero-mean Gaussian density with standard deviation σ, 1/(σ√(2π))·exp(−u²/2σ²) (YT App. E;
    the paper's 1/√(2πσ) is a typo for this normalisation)."""
    return np.exp(-0.5 * (np.asarray(u) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def _phi_integral_one(r: float) -> float:
    if r == 0:
        return 0.0
    if math.isinf(r):
        return 1.0
    # g_r(u) lives on the scale r and G(u) changes on the scale 1: breaking [0, ∞) at 1, 4, 10 times each
    # scale keeps every piece's mass where quad samples it, from r = 1e-6 to 1e6.
    cuts = sorted({0.0} | {a * s for a in (1.0, 4.0, 10.0) for s in (1.0, r)})
    total = 0.0
    for a, b in zip(cuts, cuts[1:] + [math.inf]):
        total += integrate.quad(lambda u: g(u, r) * ndtr(u), a, b, epsabs=QUAD_TOL, epsrel=QUAD_TOL, limit=500)[0]
    return 4.0 * total - 1.0


def phi_integral(r):
    """φ(r) = 4∫₀^∞ g_r(u)·G(u) du − 1 (YT Eq. 14) by adaptive quadrature; r a scalar or an array."""
    r = np.asarray(r, dtype=np.float64)
    if np.any(r < 0) or np.any(np.isnan(r)):
        raise ValueError("r must be non-negative")
    out = np.array([_phi_integral_one(float(x)) for x in r.ravel()]).reshape(r.shape)
    return out[()] if out.ndim == 0 else out


def phi_closed(r):
    """φ(r) = (2/π)·arctan r, exact (Z₂/Z₁ is standard Cauchy); equals YT Eq. 14."""
    return 2.0 / np.pi * np.arctan(np.asarray(r, dtype=np.float64))


def phi_approx(r, c: float = 1.2):
    """φ(r) ≈ 1/(1 + r^−c) (YT Eq. 15); 0 at r = 0 and 1 at r = ∞."""
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        return 1.0 / (1.0 + r**-c)


def phi_monte_carlo(r: float, trials: int, seed: int, chunk: int = 1 << 20) -> tuple[float, float]:
    """(estimate, standard error) of P[|X| > |Y|], X ~ N(0, r²), Y ~ N(0, 1), from `trials` draws
    (YT Eq. 14 by sampling); the standard error is √(φ̂(1−φ̂)/trials)."""
    if trials < 1:
        raise ValueError("trials must be positive")
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, trials, chunk):
        m = min(chunk, trials - start)
        x = r * rng.standard_normal(m)
        y = rng.standard_normal(m)
        hits += int(np.count_nonzero(np.abs(x) > np.abs(y)))
    estimate = hits / trials
    return estimate, math.sqrt(estimate * (1 - estimate) / trials)


def approx_max_error(c: float, r_min: float, r_max: float, grid_points: int) -> dict:
    """The largest |1/(1+r^−c) − φ(r)| over [r_min, r_max] (φ in closed form): the best of a log-spaced
    grid of grid_points, refined by a bounded scalar optimiser between the grid neighbours of that point.
    Returns r, the signed error there (approximation − φ), its magnitude and the grid's own maximum."""
    log_r = np.linspace(math.log(r_min), math.log(r_max), grid_points)

    def error(x):
        r = np.exp(x)
        return phi_approx(r, c) - phi_closed(r)

    errors = np.abs(error(log_r))
    i = int(np.argmax(errors))
    lo, hi = log_r[max(i - 1, 0)], log_r[min(i + 1, grid_points - 1)]
    best = optimize.minimize_scalar(
        lambda x: -abs(error(x)), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
    )
    x = best.x if -best.fun >= errors[i] else log_r[i]
    return {
        "c": c,
        "r": float(math.exp(x)),
        "error": float(error(x)),
        "abs_error": float(abs(error(x))),
        "grid_abs_error": float(errors[i]),
        "grid_r": float(math.exp(log_r[i])),
        "grid_points": grid_points,
    }


def phi_table(r_min: float, r_max: float, points: int, c: float = 1.2) -> pd.DataFrame:
    """φ on a log-spaced r grid (YT Fig 13): r, φ by quadrature (Eq. 14), the closed form, the
    approximation (Eq. 15) and its error approximation − quadrature."""
    r = np.geomspace(r_min, r_max, points)
    integral = phi_integral(r)
    approx = phi_approx(r, c)
    return pd.DataFrame(
        {
            "r": r,
            "phi_integral": integral,
            "phi_closed": phi_closed(r),
            "phi_approx": approx,
            "approx_error": approx - integral,
            "c": c,
        }
    )


def phi_monte_carlo_table(rs, trials: int, seed: int) -> pd.DataFrame:
    """phi_monte_carlo at each r, each from a seed of its own derived from (seed, r), so a point's result
    does not depend on the other points."""
    rows = []
    for r in map(float, rs):
        key = int.from_bytes(hashlib.blake2b(repr(r).encode(), digest_size=8).digest(), "little")
        point_seed = int(np.random.SeedSequence([int(seed), key]).generate_state(1, np.uint64)[0])
        est, se = phi_monte_carlo(r, trials, point_seed)
        rows.append({"r": r, "phi_mc": est, "se": se, "trials": trials, "seed": point_seed})
    return pd.DataFrame(rows)
