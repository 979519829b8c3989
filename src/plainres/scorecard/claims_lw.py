"""LW's claims: Fig 1(a–c, f) and Theorem 1 (exact series), Fig 1(d, e) (the residual MLP) and App. C
(BN-absorbed conv norms)."""

from __future__ import annotations

import itertools

import pandas as pd

from ..evidence import NO_DATA, Row, exact, one_sample, weighed
from ..tables import fmt
from .common import diverged_note, finished


def claims_lw_fig1_abc(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """The ensemble's mass moves to longer paths as β grows (LW Fig 1(a–c), Lemma 4)."""
    modes = [(beta, int(g.loc[g.epsilon.idxmax(), "r"]), int(g.p.iloc[0])) for beta, g in data.groupby("beta")]
    return [
        exact(
            "lw_fig1_abc",
            "lw_fig1_abc.depth_grows",
            "the effective depth argmax_r ε_r grows with β (Fig 1(a–c))",
            all(a[1] < b[1] for a, b in itertools.pairwise(modes)) if len(modes) > 1 else None,
            "; ".join(f"β = {b:g}: r = {r} of p = {p}" for b, r, p in modes),
        )
    ]


def claims_lw_theorem1(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Theorem 1 at the largest p computed: argmax_r ε_r / p within 1/p of β/(1+β), for every β."""
    top = data[data.p == data.p.max()]
    gaps = [(row.beta, abs(row.fraction - row.limit)) for row in top.itertuples()]
    p = int(top.p.iloc[0])
    return [
        exact(
            "lw_theorem1",
            "lw_theorem1.limit",
            f"argmax_r ε_r / p → β/(1+β) (Theorem 1): within 1/p at p = {p:,}",
            all(g <= 1 / p for _, g in gaps),
            "; ".join(f"β = {b:g}: |Δ| = {fmt(g, 2)}" for b, g in gaps),
        )
    ]


def claims_lw_fig1_f(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 1(f): θ_k rises with β (more low-index critical points as the ensemble deepens), below Theorem 5's bound."""
    out = []
    for (p, r_start), g in data.groupby(["p", "r_start"]):
        g = g.sort_values("beta")
        rises = bool((g.theta_k.diff().dropna() >= -1e-12).all())
        below = bool((g.theta_k <= g.bound + 1e-12).all())
        out.append(
            exact(
                "lw_fig1_f",
                "lw_fig1_f.rises_below_bound",
                f"θ_k rises with β and stays below Theorem 5's bound (Fig 1(f); p = {p}, sums from r = {r_start})",
                rises and below,
                f"θ_k {fmt(g.theta_k.iloc[0], 3)} at β = {g.beta.iloc[0]:g} → "
                f"{fmt(g.theta_k.iloc[-1], 3)} at β = {g.beta.iloc[-1]:g}; bound {fmt(g.bound.iloc[0], 4)}",
            )
        )
    return out


def _late_rise(iteration: pd.Series, value: pd.Series) -> float:
    """Spearman's ρ of `value` against `iteration` over the second half of training."""
    late = iteration >= iteration.max() / 2
    return float(value[late].rank().corr(iteration[late].rank()))


def claims_lw_fig1_d(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """LW Fig 1(d) and Thm 3: the BN scales of the skippable layers grow as training goes on (one seeded run)."""
    skip = data[(data.panel == "over training") & (data.series == "mean lambda_2..L")].sort_values("iteration")
    rho = _late_rise(skip.iteration, skip.value)
    low = skip.loc[skip.value.idxmin()]
    stages = data[data.panel == "by layer"]
    means = stages[stages.layer >= 2].groupby("iteration").value.mean().sort_index()
    return [
        exact(
            "lw_fig1_d",
            "lw_fig1_d.late_rise",
            "λ_l of the skippable layers (l ≥ 2) rise as training goes on (Fig 1(d), Thm 3): rank correlation "
            "with iteration over the second half > 0.5",
            bool(rho > 0.5),
            f"mean λ_2..: {fmt(skip.value.iloc[0], 3)} at start, lowest {fmt(low.value, 3)} "
            f"at iteration {int(low.iteration)}, {fmt(skip.value.iloc[-1], 3)} at the end; ρ = {fmt(rho, 3)}",
        ),
        exact(
            "lw_fig1_d",
            "lw_fig1_d.stages_higher",
            "each later stage's λ_l line lies higher (Fig 1(d) caption), from the initialisation on",
            bool((means.diff().dropna() > 0).all()),
            "; ".join(f"it {int(i)}: {fmt(v, 3)}" for i, v in means.items()),
        ),
    ]


def claims_lw_fig1_e(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """LW Fig 1(e) and Thm 4: without BN, the norm of the weights grows during training (one seeded run)."""
    w = data[data.series == "w_norm"].sort_values("iteration")
    rho = _late_rise(w.iteration, w.value)
    return [
        exact(
            "lw_fig1_e",
            "lw_fig1_e.grows",
            "‖w‖ of the residual net without BN grows during training (Fig 1(e), Thm 4)",
            bool(w.value.iloc[-1] > w.value.iloc[0] and rho > 0.5),
            f"‖w‖ {fmt(w.value.iloc[0], 4)} → {fmt(w.value.iloc[-1], 4)}; ρ over the second half {fmt(rho, 3)}",
        )
    ]


def claims_lw_appc(norms: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """LW App. C Fig 2(b, d) from every seed's per-layer norms (dataset, seed, epoch, layer, absorbed_norm): the
    mean over conv layers grows from the first to the last epoch, seed by seed."""
    ok, out = finished(norms), []
    for dataset in sorted(norms.dataset.unique()):
        g, note = ok[ok.dataset == dataset], diverged_note(norms, dataset=dataset)
        claim = f"{dataset}: the mean BN-absorbed conv norm grows during training (LW App. C Fig 2)"
        if g.empty:
            out.append(weighed("lw_appc", "lw_appc.grows", claim, NO_DATA, "no run left" + note))
            continue
        per_seed = g.groupby(["seed", "epoch"]).absorbed_norm.mean().unstack("epoch").sort_index(axis=1)
        first, last = per_seed.columns[0], per_seed.columns[-1]
        out.append(
            weighed(
                "lw_appc",
                "lw_appc.grows",
                claim,
                one_sample(per_seed[last] - per_seed[first]),
                f"epoch {last:g} − epoch {first:g}; means {fmt(per_seed[first].mean(), 4)} → "
                f"{fmt(per_seed[last].mean(), 4)}{note}",
            )
        )
    return out
