"""LW's claims: Fig 1(a–c, f) and Theorem 1 (exact series), Fig 1(d, e) (the residual MLP) and App. C
(BN-absorbed conv norms)."""

from __future__ import annotations

import itertools

import pandas as pd

from ..evidence import NO_DATA, Effect, Row, exact, one_sample, weighed
from ..figures.lw import stage_iterations
from ..tables import fmt
from .common import all_of, diverged_note, finished


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


def _per_seed(data: pd.DataFrame, panel: str, series: str) -> pd.DataFrame:
    """One column per seed, one row per iteration, of a plotted MLP series."""
    rows = data[(data.panel == panel) & (data.series == series)]
    return rows.pivot_table(index="iteration", columns="seed", values="value").sort_index()


def _stage_steps(per_stage: pd.DataFrame) -> dict[str, Effect]:
    """Each step from one stage to the next (rows: stages, columns: seeds): its per-seed rise, weighed."""
    return {
        f"iteration {int(a):,} → {int(b):,}": one_sample(per_stage.loc[b] - per_stage.loc[a])
        for a, b in itertools.pairwise(per_stage.index)
    }


def _late_rho(series: pd.Series) -> float:
    """Spearman's ρ of a series against its iteration over the second half of training."""
    late = series[series.index >= series.index.max() / 2]
    return float(pd.Series(late.to_numpy()).rank().corr(pd.Series(late.index.to_numpy()).rank()))


def _sweep_note(data: pd.DataFrame, what: str) -> str:
    """Where the series of the lr sweep starts, is lowest, and ends, at each lr (the first seed)."""
    sweep = data[data.panel == "sweep"]
    if sweep.empty:
        return ""
    parts = []
    for lr, g in sweep.sort_values("iteration").groupby("lr"):
        low = g.loc[g.value.idxmin()]
        parts.append(
            f"lr {lr:g}: {fmt(g.value.iloc[0], 3)} → lowest {fmt(low.value, 3)} at iteration {int(low.iteration):,}"
            f" → {fmt(g.value.iloc[-1], 3)}"
        )
    return f"; the lr sweep (seed {int(sweep.seed.iloc[0])}), {what}: " + "; ".join(parts)


def claims_lw_fig1_d(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """LW Fig 1(d) and Thm 3, weighed over the seeds: the BN scales of the skippable layers rise late in training,
    each stage's line above the last, and λ₁ (not skippable) rises (Eq. 24)."""
    skip = _per_seed(data, "over training", "mean lambda_2..L")
    mean = skip.mean(axis=1)
    low = mean.idxmin()
    stages = data[data.panel == "by layer"]
    # per stage and seed: the mean over the layers l ≥ 2 (pivot_table averages them), and λ₁
    skippable = stages[stages.layer >= 2].pivot_table(index="iteration", columns="seed", values="value")
    first = stages[stages.layer == 1].pivot_table(index="iteration", columns="seed", values="value")
    sweep = _sweep_note(data, "the mean of λ₂..")
    return [
        weighed(
            "lw_fig1_d",
            "lw_fig1_d.late_rise",
            "the mean λ_l of the skippable layers (l ≥ 2) rises as training goes on (Fig 1(d), Thm 3): Spearman's ρ "
            "with the iteration over the second half, per seed",
            one_sample(skip.apply(_late_rho)),
            f"mean over seeds: {fmt(mean.iloc[0], 3)} at the start, lowest {fmt(mean[low], 3)} at iteration "
            f"{int(low):,}, {fmt(mean.iloc[-1], 3)} at the end",
        ),
        all_of(
            "lw_fig1_d",
            "lw_fig1_d.stages_higher",
            "each later stage's λ_l line lies higher (Fig 1(d) caption), from the initialisation on: the mean of "
            "λ₂.. rises from each drawn stage to the next",
            _stage_steps(skippable),
            what="steps",
            note=sweep,
        ),
        all_of(
            "lw_fig1_d",
            "lw_fig1_d.first_layer",
            "λ₁, of the layer that cannot be skipped, rises from each drawn stage to the next (Thm 3, Eq. 24)",
            _stage_steps(first),
            what="steps",
        ),
    ]


def claims_lw_fig1_e(data: pd.DataFrame, spec: dict) -> list[Row]:
    """LW Fig 1(e) and Thm 4, weighed over the seeds: without BN, ‖w‖ grows steadily during training."""
    w = _per_seed(data, "w_norm", "w_norm")
    stages = stage_iterations(w.index, n_stages=spec["stages"])  # those Fig 1(d) draws (simulations.lw_mlp)
    mean = w.mean(axis=1)
    return [
        all_of(
            "lw_fig1_e",
            "lw_fig1_e.grows",
            "‖w‖ of the residual net without BN grows steadily during training (Fig 1(e), Thm 4): it rises from each "
            "of the stages of Fig 1(d) to the next",
            _stage_steps(w.loc[stages]),
            what="steps",
            note=f"; mean over seeds {fmt(mean.iloc[0], 4)} → {fmt(mean.iloc[-1], 4)}" + _sweep_note(data, "‖w‖"),
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
