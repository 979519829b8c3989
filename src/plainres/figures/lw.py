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


MLP_COLUMNS = ["panel", "series", "seed", "lr", "iteration", "layer", "value"]


def skip_mean(record: dict, column: str = "lambda") -> pd.Series:
    """The mean of λ₂..λ_L (the skippable layers) at every recorded iteration."""
    lam = record["lambdas"]
    return lam[lam.layer > 1].groupby("iteration")[column].mean().sort_index()


def first_lambda(record: dict, column: str = "lambda") -> pd.Series:
    """λ₁ (the layer that cannot be skipped) at every recorded iteration."""
    lam = record["lambdas"]
    return lam[lam.layer == 1].set_index("iteration")[column].sort_index()


def w_norm(record: dict) -> pd.Series:
    """‖w‖ at every recorded iteration."""
    return record["norms"].set_index("iteration").w_norm.sort_index()


def _mlp_rows(panel: str, series: str, seed, lr: float, values: pd.Series, stage: int | None = None) -> pd.DataFrame:
    """Plotted rows (MLP_COLUMNS) of one series: indexed by iteration, or by layer at the iteration `stage`."""
    at = (
        {"iteration": values.index.to_numpy(), "layer": np.nan}
        if stage is None
        else {"iteration": stage, "layer": values.index.to_numpy()}
    )
    return pd.DataFrame({"panel": panel, "series": series, "seed": seed, "lr": lr, **at, "value": values.to_numpy()})


def _over_seeds(ax, curves: dict, color: str, label: str, style: str = "-") -> None:
    """One thin line per seed and their mean, thick."""
    for values in curves.values():
        ax.plot(values.index, values.to_numpy(), style, color=color, lw=0.7, alpha=0.35)
    mean = pd.concat(curves, axis=1).mean(axis=1)
    ax.plot(mean.index, mean.to_numpy(), style, color=color, lw=1.8, label=f"{label} (mean of {len(curves)} seeds)")


def _sweep_panel(ax, sweep: dict, lr: float, seed: int, series_of, what: str) -> list[pd.DataFrame]:
    """The first seed's `what` against iteration at every lr of the sweep, one curve each (the chosen lr thick)."""
    rows = []
    colors = plt.cm.viridis(np.linspace(0.0, 0.9, len(sweep)))
    for color, (x, record) in zip(colors, sorted(sweep.items())):
        values = series_of(record)
        gone = "" if np.isfinite(record["metrics"].train_loss.iloc[-1]) else ", diverged"
        label = f"lr {x:g}{' (chosen)' if x == lr else ''}{gone}"
        ax.plot(values.index, values.to_numpy(), color=color, lw=2.4 if x == lr else 1.2, label=label)
        rows.append(_mlp_rows("sweep", what, seed, x, values))
    ax.set(xlabel="iteration", title=f"the lr sweep (seed {seed})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, title="SGD lr (momentum as configured)", title_fontsize=7)
    return rows


def _train_loss(ax, records: dict, lr: float) -> pd.DataFrame:
    """The seeds' mean full-set train loss on a log axis twinned with `ax`; its rows, per seed."""
    loss = {s: r["metrics"].set_index("iteration").train_loss for s, r in records.items()}
    twin = ax.twinx()
    mean = pd.concat(loss, axis=1).mean(axis=1)
    twin.plot(mean.index, mean.to_numpy(), color="0.55", lw=1.0, ls=":", label="train loss (full set, mean)")
    loss_axis(twin, "cross-entropy train loss (log scale)")
    lines, extra = ax.get_legend_handles_labels(), twin.get_legend_handles_labels()
    ax.legend(lines[0] + extra[0], lines[1] + extra[1], fontsize=8, loc="center right")
    return pd.concat([_mlp_rows("over training", "train_loss", s, lr, v) for s, v in loss.items()])


def lw_fig1_d(records: dict, sweep: dict, lr: float, stages=None, n_stages: int = 6, column: str = "lambda"):
    """LW Fig. 1(d): the BN scales λ_l (Eq. 22) against layer l, one line per stage of training (later darker),
    the mean over seeds ± sd; middle, λ₁ and the mean of λ₂..λ_L against iteration, per seed and their mean,
    with the train loss; right, the mean of λ₂..λ_L of the first seed at every lr of the sweep.
    records: {seed: record} at lr; sweep: {lr: record} of the first seed (train_residual_mlp records)."""
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(17, 4.6), constrained_layout=True)
    lam = pd.concat([r["lambdas"].assign(seed=s) for s, r in records.items()])
    chosen = stage_iterations(lam.iteration, stages, n_stages)
    rows = []
    for color, t in zip(plt.cm.viridis_r(np.linspace(0.15, 1.0, len(chosen))), chosen):
        at = lam[lam.iteration == t]
        errorbars(left, mean_sd(at, [], "layer", column), "layer", color, f"iteration {t:,}")
        rows += [
            _mlp_rows("by layer", f"iteration {t}", s, lr, g.set_index("layer")[column], stage=t)
            for s, g in at.groupby("seed")
        ]
    what = "mean of γ over units" if column == "lambda" else "mean of |γ| over units"
    left.set(
        xlabel="layer l (1 cannot be skipped)",
        ylabel=f"λ_l ({what})",
        title=f"BN scale λ_l per layer (± sd over {len(records)} seeds)",
    )
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.grid(alpha=0.3)
    left.legend(fontsize=8, title="stage of training", title_fontsize=8)
    first = {s: first_lambda(r, column) for s, r in records.items()}
    skipped = {s: skip_mean(r, column) for s, r in records.items()}
    last_layer = int(lam.layer.max())
    _over_seeds(middle, first, "black", "λ₁ (no skip)")
    _over_seeds(middle, skipped, RESIDUAL, f"mean of λ₂..λ_{last_layer}")
    middle.set(xlabel="iteration", ylabel="λ", title=f"λ over training (lr {lr:g})")
    middle.grid(alpha=0.3)
    rows += [_train_loss(middle, records, lr)]
    rows += [_mlp_rows("over training", "lambda_1", s, lr, v) for s, v in first.items()]
    rows += [_mlp_rows("over training", "mean lambda_2..L", s, lr, v) for s, v in skipped.items()]
    rows += _sweep_panel(right, sweep, lr, min(records), lambda r: skip_mean(r, column), "mean lambda_2..L")
    right.set(ylabel=f"mean of λ₂..λ_{last_layer}")
    return fig, pd.concat(rows, ignore_index=True)[MLP_COLUMNS]


def lw_fig1_e(records: dict, sweep: dict, lr: float):
    """LW Fig. 1(e): ‖w‖ (all layer weights W₁..W_L, Eq. 26) of the residual MLP without BN against iteration,
    per seed and their mean; middle, the train and test loss; right, ‖w‖ of the first seed at every lr of the
    sweep (log scale). records: {seed: record} at lr; sweep: {lr: record} of the first seed."""
    fig, (left, middle, right) = plt.subplots(1, 3, figsize=(17, 4.6), constrained_layout=True)
    norms = {s: w_norm(r) for s, r in records.items()}
    _over_seeds(left, norms, RESIDUAL, "‖w‖, no BN")
    left.set(xlabel="iteration", ylabel="‖w‖ = (Σ_l ‖W_l‖_F²)^½", title=f"weight norm without BN (lr {lr:g})")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    rows = [_mlp_rows("w_norm", "w_norm", s, lr, v) for s, v in norms.items()]
    for series, style in (("train_loss", "-"), ("test_loss", ":")):
        curves = {s: r["metrics"].set_index("iteration")[series] for s, r in records.items()}
        _over_seeds(middle, curves, RESIDUAL, series.replace("_", " "), style)
        rows += [_mlp_rows("loss", series, s, lr, v) for s, v in curves.items()]
    loss_axis(middle, "cross-entropy loss (log scale)")
    middle.set(xlabel="iteration", title="loss")
    middle.grid(alpha=0.3)
    middle.legend(fontsize=8)
    rows += _sweep_panel(right, sweep, lr, min(records), w_norm, "w_norm")
    right.set(yscale="log", ylabel="‖w‖ (log scale)")
    return fig, pd.concat(rows, ignore_index=True)[MLP_COLUMNS]


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
