"""LW's figures: Fig 1(a–c, f) and Theorem 1 (the ensemble of path lengths), Fig 1(d, e) (the residual MLP)
and App. C Figs 2 and 3 (BN-absorbed conv norms)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from .style import (
    DEPTH_STYLES,
    RESIDUAL,
    count_diverged,
    errorbars,
    left_out,
    loss_axis,
    mean_sd,
    nothing_drawn,
    stacked,
)

# ---------------------------------------------------------------- LW Fig 1 and Theorem 1: the ensemble of path lengths


def lw_fig1_abc(table: pd.DataFrame):
    """LW Fig. 1(a–c): bar histograms of ε_r (Eq. 15) against the path length r, one panel per (p, β);
    table as ensemble.fig1_abc_table (beta, p, r, epsilon)."""
    panels = list(table.sort_values(["p", "beta", "r"]).groupby(["p", "beta"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.6), constrained_layout=True, squeeze=False)
    for i, (ax, ((p, beta), rows)) in enumerate(zip(axes[0], panels)):
        ax.bar(rows.r, rows.epsilon, width=1.0, color=RESIDUAL, alpha=0.8)
        ax.set(
            xlim=(0.5, p + 0.5),
            xlabel="path length $r$",
            ylabel="$\\epsilon_r$",
            title=f"({chr(ord('a') + i)}) β = {beta:g}, p = {p}",
        )
        ax.grid(alpha=0.3, axis="y")
    return fig, table[["beta", "p", "r", "epsilon"]].sort_values(["p", "beta", "r"]).reset_index(drop=True)


def lw_theorem1(table: pd.DataFrame):
    """LW Theorem 1: argmax_r ε_r / p against the depth p (log) per β, the limit β/(1+β) dashed; circled
    points have pβ/(1+β) ∈ ℕ (two-valued mode, the smaller r taken). table as ensemble.theorem1_table."""
    fig, ax = plt.subplots(figsize=(8.2, 4.4), constrained_layout=True)
    groups = list(table.sort_values(["beta", "p"]).groupby("beta"))
    for (beta, rows), colour in zip(groups, plt.cm.viridis(np.linspace(0.0, 0.85, len(groups)))):
        ax.plot(rows.p, rows.fraction, "o-", color=colour, ms=3.5, lw=1.4, label=f"β = {beta:g}")
        ax.axhline(rows.limit.iloc[0], ls="--", lw=1.0, color=colour)
        tied = rows[rows.tie]
        ax.plot(tied.p, tied.fraction, "o", mfc="none", mec="black", ms=7, mew=0.8)
    ax.plot([], [], "--", color="0.4", label="limit β/(1+β)")
    ax.plot([], [], "o", mfc="none", mec="black", label="pβ/(1+β) ∈ ℕ (smaller mode)")
    ax.set(
        xscale="log",
        ylim=(0, 1),
        xlabel="depth $p$ (log scale)",
        ylabel="$\\arg\\max_r\\, \\epsilon_r \\,/\\, p$",
        title="Theorem 1: the effective depth of the ensemble",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    cols = [c for c in ("beta", "p", "argmax", "fraction", "limit", "tie", "log_eps_gap") if c in table]
    return fig, table[cols].sort_values(["beta", "p"]).reset_index(drop=True)


def lw_fig1_f(table: pd.DataFrame):
    """LW Fig. 1(f): θ_k (Eq. 33) against β (log) per (p, r_start), Theorem 5's bound ½log(p−1) − (1−2/p)
    dashed per p. table as ensemble.fig1_f_table (several tables may be concatenated)."""
    fig, ax = plt.subplots(figsize=(7.6, 4.6), constrained_layout=True)
    depths = sorted(table.p.unique())
    colours = dict(zip(depths, plt.cm.viridis(np.linspace(0.0, 0.85, len(depths))) if len(depths) > 1 else [RESIDUAL]))
    for i, ((p, r_start), rows) in enumerate(table.sort_values(["p", "r_start", "beta"]).groupby(["p", "r_start"])):
        ax.plot(
            rows.beta,
            rows.theta_k,
            DEPTH_STYLES[i % len(DEPTH_STYLES)],
            color=colours[p],
            lw=1.6,
            label=f"p = {p}, sums over r = {r_start}..p",
        )
    for p in depths:
        bound = table[table.p == p].bound.iloc[0]
        ax.axhline(
            bound,
            ls="--",
            lw=1.0,
            color=colours[p],
            label=f"Theorem 5 bound ½log(p−1) − (1−2/p) = {bound:.4g} (p = {p})",
        )
    ax.set(
        xscale="log",
        xlabel="$\\beta = \\rho n C / \\sqrt{\\Lambda}$ (log scale)",
        ylabel="$\\theta_k(\\mathbb{R}, \\epsilon)$",
        title="Fig. 1(f): critical points of finite index",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    cols = ["beta", "p", "r_start", "theta_k", "v1", "v2", "bound"]
    return fig, table[cols].sort_values(["p", "r_start", "beta"]).reset_index(drop=True)


# ---------------------------------------------------------------- LW Fig 1(d, e): the residual MLP


def stage_iterations(recorded, stages=None, n_stages: int = 6) -> list[int]:
    """The recorded iterations nearest to `stages` (default: n_stages evenly spaced from 0 to the last)."""
    recorded = np.asarray(sorted(set(recorded)))
    wanted = np.linspace(0, recorded[-1], n_stages) if stages is None else np.asarray(stages, dtype=float)
    return sorted({int(recorded[np.abs(recorded - w).argmin()]) for w in wanted})


def _lw_fig1_d_by_layer(left, lam: pd.DataFrame, chosen, column: str) -> list[pd.DataFrame]:
    """Fig 1(d), left: λ_l against layer l, one line per stage of training (later darker); its plotted rows."""
    colors = plt.cm.viridis_r(np.linspace(0.15, 1.0, len(chosen)))
    rows = []
    for color, t in zip(colors, chosen):
        at = lam[lam.iteration == t].sort_values("layer")
        left.plot(at.layer, at[column], "-o", color=color, ms=4, lw=1.6, label=f"iteration {t:,}")
        rows.append(
            pd.DataFrame(
                {
                    "panel": "by layer",
                    "series": f"iteration {t}",
                    "iteration": t,
                    "layer": at.layer.to_numpy(),
                    "value": at[column].to_numpy(),
                }
            )
        )
    what = "mean of γ over units" if column == "lambda" else "mean of |γ| over units"
    left.set(xlabel="layer l (1 cannot be skipped)", ylabel=f"λ_l ({what})", title="BN scale λ_l per layer")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.grid(alpha=0.3)
    left.legend(fontsize=8, title="stage of training", title_fontsize=8)
    return rows


def _over_training(series: str, iteration, layer, value) -> pd.DataFrame:
    return pd.DataFrame(
        {"panel": "over training", "series": series, "iteration": iteration, "layer": layer, "value": value}
    )


def lw_fig1_d(record: dict, stages=None, n_stages: int = 6, column: str = "lambda"):
    """LW Fig. 1(d): the BN scales λ_l (Eq. 22) against layer l, one line per stage of training (later stages
    darker); right, λ₁ and the mean of λ₂..λ_L against iteration, with the train loss."""
    lam, metrics = record["lambdas"], record["metrics"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    rows = _lw_fig1_d_by_layer(left, lam, stage_iterations(lam.iteration, stages, n_stages), column)
    first = lam[lam.layer == 1].sort_values("iteration")
    skipped = lam[lam.layer > 1].groupby("iteration")[column].mean().reset_index()
    last_layer = int(lam.layer.max())
    right.plot(first.iteration, first[column], color="black", lw=1.6, label="λ₁ (no skip)")
    right.plot(skipped.iteration, skipped[column], color=RESIDUAL, lw=1.6, label=f"mean of λ₂..λ_{last_layer}")
    right.set(xlabel="iteration", ylabel="λ", title="λ over training")
    right.grid(alpha=0.3)
    loss = right.twinx()
    loss.plot(metrics.iteration, metrics.train_loss, color="0.55", lw=1.0, ls=":", label="train loss (full set)")
    loss_axis(loss, "cross-entropy train loss (log scale)")
    lines = right.get_legend_handles_labels()
    extra = loss.get_legend_handles_labels()
    right.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="center right")
    rows += [
        _over_training("lambda_1", first.iteration.to_numpy(), 1, first[column].to_numpy()),
        _over_training("mean lambda_2..L", skipped.iteration.to_numpy(), np.nan, skipped[column].to_numpy()),
        _over_training("train_loss", metrics.iteration.to_numpy(), np.nan, metrics.train_loss.to_numpy()),
    ]
    return fig, pd.concat(rows, ignore_index=True)


def lw_fig1_e(record: dict):
    """LW Fig. 1(e): ‖w‖ (all layer weights W₁..W_L, Eq. 26) of the residual MLP without BN against iteration;
    right, its train and test loss."""
    norms, metrics = record["norms"], record["metrics"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    left.plot(norms.iteration, norms.w_norm, color=RESIDUAL, lw=1.6, label="‖w‖, no BN")
    left.set(xlabel="iteration", ylabel="‖w‖ = (Σ_l ‖W_l‖_F²)^½", title="weight norm of the residual net without BN")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    right.plot(metrics.iteration, metrics.train_loss, color=RESIDUAL, lw=1.4, label="train (full set)")
    right.plot(metrics.iteration, metrics.test_loss, color=RESIDUAL, lw=1.0, ls=":", label="test")
    loss_axis(right, "cross-entropy loss (log scale)")
    right.set(xlabel="iteration", title="loss")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    data = pd.concat(
        [
            pd.DataFrame({"panel": "w_norm", "series": "w_norm", "iteration": norms.iteration, "value": norms.w_norm}),
            pd.DataFrame(
                {"panel": "loss", "series": "train_loss", "iteration": metrics.iteration, "value": metrics.train_loss}
            ),
            pd.DataFrame(
                {"panel": "loss", "series": "test_loss", "iteration": metrics.iteration, "value": metrics.test_loss}
            ),
        ],
        ignore_index=True,
    )
    return fig, data


# ---------------------------------------------------------------- LW App. C Figs 2 and 3


def stage_epochs(epochs, stages: int) -> list[int]:
    """`stages` of `epochs` (sorted), evenly spread from the first to the last."""
    epochs = sorted(epochs)
    picks = np.linspace(0, len(epochs) - 1, min(stages, len(epochs))).round().astype(int)
    return [epochs[i] for i in dict.fromkeys(picks)]


def lw_appc(norms: pd.DataFrame, stages: int, milestones: dict[str, tuple], diverged: pd.DataFrame | None = None):
    """Per dataset (column pairs): the norm of each conv layer with its BN scale absorbed at `stages` epochs
    (later epochs darker) and their mean over layers against epoch (top); the same for the BN scales (bottom);
    diverged: the runs (dataset, depth, run_id) left out, counted in the legends."""
    gone = diverged if diverged is not None else pd.DataFrame(columns=["dataset", "depth", "run_id"])
    if norms.empty:
        norms = pd.DataFrame(columns=["dataset", "depth", "seed", "epoch", "layer", "absorbed_norm", "bn_scale_norm"])
    datasets = list(dict.fromkeys([*norms.dataset, *gone.dataset]))
    fig, axes = plt.subplots(
        2, 2 * len(datasets), figsize=(10 * len(datasets), 8), constrained_layout=True, squeeze=False
    )
    plotted = []
    for d, dataset in enumerate(datasets):
        cell = norms[norms.dataset == dataset]
        lost = count_diverged(gone, dataset=dataset)
        if cell.empty:
            depth = int(gone[gone.dataset == dataset].depth.iloc[0])
            for ax in axes[:, 2 * d : 2 * d + 2].flat:
                nothing_drawn(ax, f"all {lost} run(s) diverged: nothing to draw")
                ax.set_title(f"{dataset}, ResNet-{depth}")
            continue
        depth = int(cell.depth.iloc[0])
        shown = stage_epochs(cell.epoch.unique(), stages)
        colours = plt.cm.viridis_r(np.linspace(0.15, 1.0, len(shown)))
        for (per_layer, over_epochs), quantity, words in (
            (axes[0, 2 * d : 2 * d + 2], "absorbed_norm", "‖W·γ/σ‖_F, BN scale absorbed"),
            (axes[1, 2 * d : 2 * d + 2], "bn_scale_norm", "‖γ‖₂, BN scale"),
        ):
            for epoch, colour in zip(shown, colours):
                stats = mean_sd(cell[cell.epoch == epoch], [], "layer", quantity)
                per_layer.plot(
                    stats.layer, stats["mean"], color=colour, lw=1.4, marker="o", ms=2.5, label=f"epoch {epoch}"
                )
                plotted.append(stats.assign(dataset=dataset, depth=depth, epoch=epoch, view="per_layer"))
            per_layer.set(xlabel="conv layer l (1 = stem)", ylabel=words, title=f"{dataset}, ResNet-{depth}: per layer")
            per_layer.xaxis.set_major_locator(MaxNLocator(integer=True))
            per_layer.legend(fontsize=7, ncol=2, title="later = darker", title_fontsize=7)
            per_run = cell.groupby(["seed", "epoch"])[quantity].mean().rename(quantity).reset_index()
            stats = mean_sd(per_run, [], "epoch", quantity)
            errorbars(over_epochs, stats, "epoch", RESIDUAL, "mean over conv layers (± sd over seeds)" + left_out(lost))
            for m in milestones.get(dataset, ()):
                over_epochs.axvline(m, color="0.5", ls="--", lw=0.8)
            over_epochs.xaxis.set_major_locator(MaxNLocator(integer=True))
            over_epochs.set(
                xlabel="epoch (dashed: lr ÷ 10)", ylabel=f"mean {words}", title=f"{dataset}: mean over layers"
            )
            over_epochs.legend(fontsize=7)
            plotted.append(stats.assign(dataset=dataset, depth=depth, view="mean_over_layers"))
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    columns = ["dataset", "depth", "view", "quantity", "epoch", "layer", "mean", "sd", "n"]
    return fig, stacked(plotted, columns)[columns]
