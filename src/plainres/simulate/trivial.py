"""Dominant gradient flows in YT's trivial case (App. D.4.1, Fig 11): Monte Carlo of E[σ⁽ˡ⁾] for plain and
residual nets of n×n "1×1 kernels", and the paper's analytic approximation for residual nets.

Θ⁽ˡ⁾ = [∏_{m=l+1}^{L} (K⁽ᵐ⁾)ᵀ S⁽ᵐ⁾] V, with S⁽ᵐ⁾ diagonal with iid Bernoulli(p) entries, V = diag(v) with
v_i iid N(0, σ_V²); residual K = I + εA, plain K′ = A′, A and A′ with iid N(0, σ_A²) entries.
r_i = |Θ_ii| / |Σ_{j≠i} Θ_ij| (Eq. 6) and σ⁽ˡ⁾ = the fraction of i with r_i > 1. We test the equivalent
|Θ_ii| > |Σ_{j≠i} Θ_ij| without dividing: when p is small whole rows of Θ vanish, and 0/0 (no gradient
reaches a_i at all) counts as "not dominant"; x/0 with x > 0 counts as dominant.

Only Kᵀ appears, so we draw Kᵀ directly: Kᵀ = I + ε·σ_A·Z (residual), Kᵀ = σ_A·Z (plain), Z standard normal;
A = σ_A·Zᵀ has the law the paper states. With M = ∏ Kᵀ S and Θ = M·diag(v): Θ_ii = M_ii v_i and
Σ_j Θ_ij = (M v)_i, so only diag(M) needs the full product (the last factor only contributes a row·column
dot product) and the off-diagonal sum is (Mv)_i − M_ii v_i.

Scale invariance, exactly and draw by draw: Θ is linear in v, so σ_V never changes σ (either net); for plain
nets Θ′ ∝ σ_A^(L−l), so σ_A does not change σ either (and ε does not enter). For residual nets only ε·σ_A
matters. The paper's "σ_V has no effect" (Fig 11(d)) is therefore exact, not approximate.

Randomness: trials are cut into fixed blocks of `block` trials; block b of a point with seed s draws from its
own numpy Generator (SFC64 seeded by SeedSequence(s, spawn_key=(b,))), Z first, then the Bernoulli
uniforms, then v. The chunk size (how many blocks one batched product holds) and the number of threads only
change speed, never a result. Computation is float64 numpy: its ziggurat sampler and small batched
matmuls were 2–3× faster than torch's float64 CPU equivalents on the reference machine (see
bench/bench_simulate.py).
"""

from __future__ import annotations

import hashlib
import math
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from .gaussian import phi_approx, phi_closed

NETS = ("plain", "residual")
PARAMETERS = ("n", "eps", "L", "l", "p", "sigma_A", "sigma_V")
INTEGER_PARAMETERS = ("n", "L", "l")
BLOCK = 250  # trials per independent random stream
CHUNK_BYTES = 1 << 22  # bytes of Kᵀ draws per batched product (4 MB: the products stay in cache)


def _check(net: str, n: int, L: int, l: int, p: float, trials: int) -> int:
    if net not in NETS:
        raise ValueError(f"net must be one of {NETS}, got {net!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if int(L) != L or int(l) != l or not 0 <= l < L:
        raise ValueError(f"need integers 0 ≤ l < L, got L={L!r}, l={l!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p!r}")
    if int(trials) != trials or trials < 1:
        raise ValueError(f"trials must be a positive integer, got {trials!r}")
    return int(L) - int(l)


def block_generator(seed: int, b: int) -> np.random.Generator:
    """The generator of block b of a point with seed `seed`."""
    return np.random.Generator(np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(b,))))


def draws(
    n: int, depth: int, p: float, trials: int, seed: int, first: int = 0, stop: int | None = None, block: int = BLOCK
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standardised draws of trials first…stop−1 (whole blocks of `block`; stop defaults to trials):
    Z (t × depth × n × n, N(0,1)), S (t × depth × n, 0/1 with P[1] = p), z_v (t × n, N(0,1)).
    Factor k of the product is the layer m = l+1+k."""
    stop = trials if stop is None else stop
    if first % block or (stop % block and stop != trials):
        raise ValueError("draws are taken in whole blocks")
    t = stop - first
    Z = np.empty((t, depth, n, n))
    U = np.empty((t, depth, n))
    zv = np.empty((t, n))
    for start in range(first, stop, block):
        end = min(start + block, stop)
        rng = block_generator(seed, start // block)
        rng.standard_normal(out=Z[start - first : end - first])
        rng.random(out=U[start - first : end - first])
        rng.standard_normal(out=zv[start - first : end - first])
    return Z, (U < p).astype(np.float64), zv


def sigma_from_draws(
    net: str, Z: np.ndarray, S: np.ndarray, zv: np.ndarray, sigma_A: float, sigma_V: float, eps: float
) -> np.ndarray:
    """σ⁽ˡ⁾ of each trial (Eq. 6 and the fraction of r_i > 1) from standardised draws (see `draws`).
    Z is overwritten (it becomes the factors Kᵀ S)."""
    t, depth, n, _ = Z.shape
    X = Z
    X *= (S * (eps * sigma_A if net == "residual" else sigma_A))[:, :, None, :]  # (εσ_A Z)·S: column j × s_j
    if net == "residual":
        X.reshape(t, depth, n * n)[:, :, :: n + 1] += S  # + I·S
    v = sigma_V * zv
    if depth == 1:
        diag = X[:, 0].reshape(t, n * n)[:, :: n + 1]
        Mv = np.matmul(X[:, 0], v[:, :, None])[..., 0]
    else:
        P = X[:, 0]
        for m in range(1, depth - 1):
            P = np.matmul(P, X[:, m])
        last = X[:, depth - 1]
        diag = np.einsum("bij,bji->bi", P, last)  # diag(P·last) without P·last
        Mv = np.matmul(P, np.matmul(last, v[:, :, None]))[..., 0]
    theta_ii = diag * v
    rest = Mv - theta_ii  # Σ_{j≠i} Θ_ij
    return (np.abs(theta_ii) > np.abs(rest)).mean(axis=1)


def sigma_samples(
    net: str,
    n: int,
    L: int,
    l: int,
    p: float,
    sigma_A: float,
    sigma_V: float,
    eps: float,
    trials: int,
    seed: int,
    block: int = BLOCK,
    chunk_bytes: int = CHUNK_BYTES,
    threads: int = 1,
) -> np.ndarray:
    """σ⁽ˡ⁾ of `trials` independent draws of the trivial-case net (YT D.4.1), float64. Batched over
    trials in chunks of whole blocks (about chunk_bytes of draws each) spread over `threads` threads;
    the result depends only on (parameters, trials, seed, block)."""
    depth = _check(net, n, L, l, p, trials)
    n = int(n)
    per_chunk = max(1, chunk_bytes // (8 * depth * n * n * block)) * block
    starts = list(range(0, trials, per_chunk))

    def run(start):
        Z, S, zv = draws(n, depth, p, trials, seed, start, min(start + per_chunk, trials), block)
        return sigma_from_draws(net, Z, S, zv, sigma_A, sigma_V, eps)

    if threads <= 1 or len(starts) == 1:
        parts = [run(s) for s in starts]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(run, starts))
    return np.concatenate(parts)


def expected_sigma(
    net: str,
    n: int,
    L: int,
    l: int,
    p: float,
    sigma_A: float,
    sigma_V: float,
    eps: float,
    trials: int,
    seed: int,
    **kwargs,
) -> tuple[float, float]:
    """(mean, standard error) of σ⁽ˡ⁾ over `trials` draws: the Monte Carlo E[σ⁽ˡ⁾] of YT Fig 11."""
    s = sigma_samples(net, n, L, l, p, sigma_A, sigma_V, eps, trials, seed, **kwargs)
    se = float(s.std(ddof=1) / math.sqrt(trials)) if trials > 1 else math.nan
    return float(s.mean()), se


# ---------------------------------------------------------------- the analytic approximation


def p_prime(p, depth: int):
    """p′ = Σ_{m=l+1}^{L} p^{2(L−m+1)} = p²(1−p^{2(L−l)})/(1−p²) (YT, before Eq. 11); summed, so p = 1
    gives its limit L−l exactly."""
    p = np.asarray(p, dtype=np.float64)
    return sum(p ** (2 * j) for j in range(1, depth + 1))


def ratio_eq11(n, eps, sigma_A, p, depth: int):
    """r = √(1 + ε²(L−l)σ_A²) / √(ε²(n−1)p′σ_A²) (YT Eq. 11); ∞ when the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt((1 + eps**2 * depth * sigma_A**2) / (eps**2 * (n - 1) * p_prime(p, depth) * sigma_A**2))


def ratio_conclusion(n, eps, sigma_A, depth: int):
    """r = √(1 + (L−l)ε²σ_A²) / (ε√((L−l)(n−1))σ_A): YT's "in conclusion" formula (Eq. 11's p′ → L−l, p = 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(1 + depth * eps**2 * sigma_A**2) / (eps * np.sqrt(depth * (n - 1)) * sigma_A)


def sigma_eq11(n, eps, L: int, l: int, p, sigma_A, c: float = 1.2):
    """E[σ⁽ˡ⁾] ≈ p^(L−l)/(1+r^−c) with r from YT Eq. 11 (c = 1.2, Eq. 15)."""
    depth = L - l
    return np.asarray(p, dtype=np.float64) ** depth * phi_approx(ratio_eq11(n, eps, sigma_A, p, depth), c)


def sigma_conclusion(n, eps, L: int, l: int, p, sigma_A, c: float = 1.2):
    """E[σ⁽ˡ⁾] ≈ p^(L−l)/(1+r^−c) with r from YT's "in conclusion" formula (L−l in place of p′)."""
    depth = L - l
    return np.asarray(p, dtype=np.float64) ** depth * phi_approx(ratio_conclusion(n, eps, sigma_A, depth), c)


def sigma_eq11_phi(n, eps, L: int, l: int, p, sigma_A):
    """E[σ⁽ˡ⁾] ≈ p^(L−l)·φ(r), r from YT Eq. 11 and the exact φ(r) = (2/π)·arctan r in place of Eq. 15."""
    depth = L - l
    return np.asarray(p, dtype=np.float64) ** depth * phi_closed(ratio_eq11(n, eps, sigma_A, p, depth))


# ---------------------------------------------------------------- YT Fig 11's table


def point_seed(seed: int, parameter: str, value, net: str) -> int:
    """The seed of one point of a sweep, from (seed, parameter, value, net) alone: results do not depend
    on the order points are run in, and plain and residual draws are independent."""
    key = f"{parameter}={_cast(parameter, value)!r}|{net}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little")
    return int(np.random.SeedSequence([int(seed), h]).generate_state(1, np.uint64)[0])


def _cast(parameter: str, value):
    return int(value) if parameter in INTEGER_PARAMETERS else float(value)


def fig11_table(defaults: dict, sweeps: dict, trials: int, seed: int, nets=NETS, c: float = 1.2, **kwargs):
    """YT Fig 11: for each swept parameter (a panel) and value, E[σ⁽ˡ⁾] by Monte Carlo for each net, the
    other parameters at `defaults` ({n, eps, L, l, p, sigma_A, sigma_V}). One row per (parameter, value,
    net): every parameter's value, mean, se, trials, the point's seed, and for residual nets the
    approximations of Eq. 11 (c), of the "in conclusion" formula, and of Eq. 11 with the exact φ.
    kwargs go to sigma_samples (block, chunk_bytes, threads)."""
    if set(defaults) != set(PARAMETERS):
        raise ValueError(f"defaults must give exactly {PARAMETERS}, got {sorted(defaults)}")
    unknown = set(sweeps) - set(PARAMETERS)
    if unknown:
        raise ValueError(f"unknown swept parameter(s) {sorted(unknown)}; choose from {PARAMETERS}")
    rows = []
    for k, (parameter, values) in enumerate(sweeps.items(), start=1):
        print(
            f"[yt_fig11] panel {k}/{len(sweeps)}: {parameter} over {len(values)} values × {len(nets)} nets × "
            f"{trials:,} trials",
            file=sys.stderr,
            flush=True,
        )
        for value in values:
            point = {k: _cast(k, v) for k, v in defaults.items()} | {parameter: _cast(parameter, value)}
            for net in nets:
                s = point_seed(seed, parameter, value, net)
                mean, se = expected_sigma(net, **point, trials=trials, seed=s, **kwargs)
                row = {
                    "parameter": parameter,
                    "value": _cast(parameter, value),
                    "net": net,
                    **point,
                    "mean": mean,
                    "se": se,
                    "trials": trials,
                    "seed": s,
                }
                args = (point["n"], point["eps"], point["L"], point["l"], point["p"], point["sigma_A"])
                residual = net == "residual"
                row["approx_eq11"] = float(sigma_eq11(*args, c=c)) if residual else math.nan
                row["approx_conclusion"] = float(sigma_conclusion(*args, c=c)) if residual else math.nan
                row["approx_eq11_phi"] = float(sigma_eq11_phi(*args)) if residual else math.nan
                rows.append(row)
    return pd.DataFrame(rows)
