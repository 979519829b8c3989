"""YT's figures: Figs 2/8, 6, 9 (training curves), 3, 7, 10, 12 (measurements) and the simulations of Figs 11
and 13."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..collect import split_diverged
from .style import (
    DEPTH_STYLES,
    PLAIN,
    RESIDUAL,
    count_diverged,
    epoch_axis,
    errorbars,
    histogram,
    left_out,
    loss_axis,
    mean_sd,
    nothing_drawn,
    stacked,
)


def first_reaching(stats: pd.DataFrame, x: str, level: float):
    hit = stats[stats["mean"] <= level]
    return None if hit.empty else int(hit[x].iloc[0])


# ---------------------------------------------------------------- YT Figs 2 and 8


def fig2(frame: pd.DataFrame, depth: int, reach_loss: float):
    """L (log) and E against epoch, plain (KWI) vs residual (HMWI) at one depth, mean ± sd over seeds."""
    frame, diverged = split_diverged(frame[frame.depth == depth])
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    data = []
    for net, color in (("plain", PLAIN), ("residual", RESIDUAL)):
        runs = frame[frame.net == net]
        n = runs.seed.nunique()
        loss, error = mean_sd(runs, [], "epoch", "L"), mean_sd(runs, [], "epoch", "E")
        label = f"{net} ({'KWI' if net == 'plain' else 'HMWI'}), n={n}" + left_out(count_diverged(diverged, net=net))
        errorbars(left, loss, "epoch", color, label)
        errorbars(right, error.assign(mean=100 * error["mean"], sd=100 * error["sd"]), "epoch", color, label)
        data += [loss.assign(net=net, depth=depth), error.assign(net=net, depth=depth)]
        reached = first_reaching(loss, "epoch", reach_loss)
        left.annotate(
            f"{net}: L ≤ {reach_loss:g} " + (f"at epoch {reached}" if reached is not None else "not reached"),
            xy=(0.98, 0.93 if net == "plain" else 0.86),
            xycoords="axes fraction",
            ha="right",
            color=color,
            fontsize=9,
        )
    if frame.empty:
        for ax in (left, right):
            nothing_drawn(ax, f"all {count_diverged(diverged)} runs diverged: nothing to draw")
    loss_axis(left, "training loss $\\mathcal{L}$ (log scale)")
    left.set_title(f"risk $\\mathcal{{L}}$, depth {depth}")
    right.set(ylabel="test error $\\mathcal{E}$ (%)", title=f"error $\\mathcal{{E}}$, depth {depth}")
    for ax in (left, right):
        epoch_axis(ax)
        ax.grid(alpha=0.3, which="both")
        ax.legend(loc="upper left" if ax is right else "lower left", fontsize=9)
    return fig, pd.concat(data, ignore_index=True)


# ---------------------------------------------------------------- YT Fig 6


def fig6(pairs: list[tuple[int, pd.DataFrame, pd.DataFrame]], depth: int, diverged: int = 0):
    """Per SGD step: the minibatch loss of the plain net at t₀ = T(r₀) and of the residual net at r₀
    (same minibatches, float64), and their absolute difference, both on log axes; the pairs with a diverged
    run (`diverged` of them) left out."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    data = []
    if diverged:
        right.plot([], [], " ", label=f"{diverged} diverged run(s): their pairs left out")
    if not pairs:
        for ax in (left, right):
            nothing_drawn(ax, f"no pair left: {diverged} run(s) diverged")
    for i, (seed, plain, residual) in enumerate(pairs):
        joined = plain.merge(residual, on=["iteration", "epoch"], suffixes=("_plain", "_residual"))
        joined["abs_diff"] = (joined["L_plain"] - joined["L_residual"]).abs()
        data.append(joined.assign(seed=seed))
        tag = f"seed {seed}"
        left.plot(
            joined.iteration,
            joined.L_plain,
            color=PLAIN,
            lw=0.8,
            alpha=0.8,
            label="plain, $p_0=\\mathcal{T}(r_0)$" if i == 0 else None,
        )
        left.plot(
            joined.iteration,
            joined.L_residual,
            "--",
            color=RESIDUAL,
            lw=0.8,
            alpha=0.8,
            label="residual, $r_0$" if i == 0 else None,
        )
        exact = joined.abs_diff == 0
        right.plot(
            joined.iteration[~exact],
            joined.abs_diff[~exact],
            ".",
            ms=2,
            alpha=0.6,
            label=f"{tag}: {int(exact.sum())} of {len(joined)} steps exactly equal",
        )
    loss_axis(left, "minibatch loss $\\mathcal{L}$ (log scale)")
    left.set(xlabel="iteration (SGD step)", title=f"equivalent pair, depth {depth}, float64")
    right.set(
        yscale="log",
        xlabel="iteration (SGD step)",
        ylabel="$|\\Delta\\mathcal{L}|$ (log scale)",
        title="|plain − residual|; exact zeros not drawn",
    )
    for ax in (left, right):
        ax.grid(alpha=0.3, which="both")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, markerscale=4)
    return fig, stacked(data, ["iteration", "epoch", "L_plain", "L_residual", "abs_diff", "seed"])


# ---------------------------------------------------------------- YT Fig 9


def fig9(frame: pd.DataFrame, left_depths: list[int]):
    """Left: L of plain nets from p₀ ~ KWI (blue) and from t₀ = T(r₀) (red) at two depths, the final
    mean written at each curve's end. Right: L(p) − L(t) against epoch at every depth (log)."""
    frame, diverged = split_diverged(frame)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    data = []
    for init, color, name in (("kwi", PLAIN, "$p$ (KWI)"), ("t-hmwi", RESIDUAL, "$t=\\mathcal{T}(r)$ (HMWI)")):
        for depth, style in zip(left_depths, DEPTH_STYLES):
            stats = mean_sd(frame[(frame.init == init) & (frame.depth == depth)], [], "epoch", "L")
            errorbars(
                left,
                stats,
                "epoch",
                color,
                f"{name}, depth {depth}" + left_out(count_diverged(diverged, init=init, depth=depth)),
                style,
            )
            if len(stats):
                last = stats.iloc[-1]
                left.annotate(
                    f"{last['mean']:.3g}",
                    (last["epoch"], last["mean"]),
                    xytext=(4, 0),
                    textcoords="offset points",
                    color=color,
                    fontsize=8,
                    va="center",
                )
            data.append(stats.assign(init=init, depth=depth, panel="left"))
    paired = frame.pivot_table(index=["depth", "seed", "epoch"], columns="init", values="L")
    paired = paired.reindex(columns=["kwi", "t-hmwi"]).dropna().reset_index()  # both inits of a seed, where left
    paired["gap"] = paired["kwi"] - paired["t-hmwi"]
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, paired.depth.nunique()))
    for (depth, runs), colour in zip(paired.groupby("depth"), colours):
        stats = mean_sd(runs, [], "epoch", "gap")
        positive = stats[stats["mean"] > 0]
        hidden = f"; ≤ 0 at {len(stats) - len(positive)} of {len(stats)} epochs" if len(positive) < len(stats) else ""
        errorbars(
            right,
            positive,
            "epoch",
            colour,
            f"depth {depth} (n={runs.seed.nunique()}){left_out(count_diverged(diverged, depth=depth))}{hidden}",
        )
        data.append(stats.assign(init="kwi − t-hmwi", depth=depth, panel="right"))
    if paired.empty:
        nothing_drawn(right, "no seed with both initialisations left: their runs diverged")
    loss_axis(left, "training loss $\\mathcal{L}$ (log scale)")
    left.set_title("plain nets from two initialisations")
    loss_axis(right, "$\\mathcal{L}(p) - \\mathcal{L}(t)$ (log scale)")
    right.set_title("gap in training loss; non-positive means not drawn")
    for ax in (left, right):
        epoch_axis(ax)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    return fig, pd.concat(data, ignore_index=True)


# ---------------------------------------------------------------- YT Fig 3


def fig3(cushions: pd.DataFrame, errors: dict, layer: int, bins: int = 30, diverged: pd.DataFrame | None = None):
    """Histograms of the per-sample layer cushion μ_ℓ(x) at one layer, plain (blue) vs residual (red),
    one panel per depth, the measured seeds pooled; cushions has columns net, depth, seed, mu; errors maps
    (net, depth) → test error (the seeds' mean); diverged: the runs (net, depth, run_id) left out, counted."""
    gone = diverged if diverged is not None else pd.DataFrame(columns=["net", "depth", "run_id"])
    depths = sorted(set(cushions.depth) | set(gone.depth))
    fig, axes = plt.subplots(1, len(depths), figsize=(5 * len(depths), 4), constrained_layout=True, squeeze=False)
    data = []
    for ax, depth in zip(axes[0], depths):
        at = cushions[cushions.depth == depth]
        for net, color in (("plain", PLAIN), ("residual", RESIDUAL)):
            cell = at[at.net == net]
            mu = cell.mu.to_numpy()
            finite = np.isfinite(mu.astype(float))  # μ is 0/0 where the layer's input is all zero (a dead net)
            mu, lost, undefined = mu[finite], count_diverged(gone, net=net, depth=depth), int((~finite).sum())
            if not len(mu):
                ax.plot(
                    [],
                    [],
                    " ",
                    label=f"{net}: all {lost} run(s) diverged, nothing to draw"
                    if cell.empty
                    else f"{net}: μ undefined for all {undefined} samples" + left_out(lost),
                )
                continue
            seeds = cell.seed.nunique() if "seed" in cell else 1
            # each net its own log-spaced bins: the two can be a decade apart and each is narrow
            edges = np.geomspace(mu.min(), mu.max() * (1 + 1e-9), bins + 1)
            data.append(
                histogram(
                    ax,
                    mu,
                    edges,
                    color,
                    f"{net}: μ {mu.mean():.3g} ± {mu.std(ddof=1):.2g}, E = {errors[net, depth]:.4g}"
                    + (f" ({seeds} seeds pooled)" if seeds > 1 else "")
                    + left_out(lost)
                    + (f", {undefined} samples with μ undefined" if undefined else ""),
                    net=net,
                    depth=depth,
                    mean=mu.mean(),
                    sd=mu.std(ddof=1),
                    n=len(mu),
                    seeds=seeds,
                )
            )
        if not any(part.depth.iloc[0] == depth for part in data):
            nothing_drawn(ax, "nothing to draw: " + ("all runs diverged" if at.empty else "μ undefined"))
        ax.set(
            xscale="log",
            xlabel=f"layer cushion $\\mu_{{{layer}}}(x)$ (log scale)",
            ylabel="training samples",
            title=f"layer {layer} of depth {depth}",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig, stacked(data, ["net", "depth", "mean", "sd", "n", "seeds", "left", "right", "count"])


# ---------------------------------------------------------------- YT Fig 7

FIG7_LARGE = 0.7  # YT App. C counts the weights of p with magnitude above 0.7 (1 before, 26 after training)


def _fig7_all_weights(ax, vectors: dict[str, tuple], when: str, edges, diverged: dict[str, str]) -> list:
    """Fig 7's top panel at one time: the histograms of every weight of p and of t; their plotted rows."""
    data = []
    for name, color, label in ((f"p_{when}", PLAIN, "$p$ (KWI)"), (f"t_{when}", RESIDUAL, "$t=\\mathcal{T}(r)$")):
        if name not in vectors:
            ax.plot([], [], " ", label=f"{label}: run {diverged.get(name, '?')} diverged, left out")
            continue
        w, _ = vectors[name]
        large = int((w.abs() > FIG7_LARGE).sum())
        data.append(
            histogram(
                ax,
                w.numpy(),
                edges,
                color,
                f"{label}: {len(w)} weights, {large} with |w| > {FIG7_LARGE:g}",
                vector=name,
                panel="all",
                large=large,
            )
        )
    return data


def _fig7_id_entries(ax, vectors: dict[str, tuple], when: str, diverged: dict[str, str]) -> list:
    """Fig 7's bottom panel at one time: the histogram of t's ID entries; its plotted rows."""
    if f"t_{when}" not in vectors:
        nothing_drawn(ax, f"run {diverged.get(f't_{when}', '?')} diverged")
        return []
    w, is_id = vectors[f"t_{when}"]
    id_edges = np.linspace(w[is_id].min().item(), w[is_id].max().item(), 41)
    return [
        histogram(
            ax,
            w[is_id].numpy(),
            id_edges,
            RESIDUAL,
            f"ID entries of $t$: {int(is_id.sum())}",
            alpha=0.6,
            vector=f"t_{when}",
            panel="id",
        )
    ]


def fig7(vectors: dict[str, tuple], depth: int, clip: float, bins: int = 200, diverged: dict[str, str] | None = None):
    """Histograms of all weights of p (blue) and t = T(r) (red), the y-axis clipped at `clip`, and of
    t's ID entries alone; before training (left) and after (right). vectors: name → (w, is_id), for the runs
    that finished; diverged: name → the id of the diverged run whose vector is left out.
    The data also holds, per vector, the exact number of weights with |w| > FIG7_LARGE."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), constrained_layout=True)
    diverged = diverged or {}
    edges = None
    if vectors:
        lo = min(v[0].min().item() for v in vectors.values())
        hi = max(v[0].max().item() for v in vectors.values())
        edges = np.linspace(lo, hi, bins + 1)
    data = []
    for col, (when, title) in enumerate((("0", "before training"), ("end", "after training"))):
        top, bottom = axes[0, col], axes[1, col]
        data += _fig7_all_weights(top, vectors, when, edges, diverged)
        data += _fig7_id_entries(bottom, vectors, when, diverged)
        top.set(
            ylim=(0, clip),
            xlabel="weight value",
            ylabel=f"count (clipped at {clip:g})",
            title=f"all weights, depth {depth}, {title}",
        )
        bottom.set(xlabel="weight value", ylabel="count", title=f"ID entries of $t$, {title}")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
    return fig, stacked(data, ["vector", "panel", "large", "left", "right", "count"])


# ---------------------------------------------------------------- YT Fig 10


def fig10(grads: torch.Tensor | None, depth: int, iterations: int, bins: int = 201, diverged: int = 0):
    """Histogram (log counts) of every captured ∂L/∂a⁽ᴸ⁾ value, with its mean and sd; the runs that diverged
    (`diverged`; grads None when all did) left out and counted."""
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    if grads is None:
        nothing_drawn(ax, f"all {diverged} run(s) diverged: no gradients to draw")
        data = pd.DataFrame(
            {
                "net": ["residual"],
                "depth": depth,
                "mean": np.nan,
                "sd": np.nan,
                "n": 0,
                "iterations": 0,
                "diverged": diverged,
            }
        )
    else:
        values = grads.flatten().double().numpy()
        mean, sd = values.mean(), values.std(ddof=1)
        edges = np.linspace(values.min(), values.max(), bins + 1)
        data = histogram(
            ax,
            values,
            edges,
            RESIDUAL,
            f"residual, depth {depth}: mean {mean:.3g}, sd {sd:.3g}\n{len(values):,} values, "
            f"{iterations} iterations{left_out(diverged)}",
            alpha=0.6,
            net="residual",
            depth=depth,
            mean=mean,
            sd=sd,
            n=len(values),
            iterations=iterations,
        )
    ax.set(
        yscale="log",
        xlabel="$\\partial\\mathcal{L} / \\partial a^{(L)}$",
        ylabel="count (log scale)",
        title="gradients of the final activations",
    )
    ax.grid(alpha=0.3)
    if grads is not None:
        ax.legend(fontsize=8, loc="upper right")
    return fig, data


STAGE_STYLES = {"first": ("-", "after the first iteration"), "last": (":", "at the first iteration of the last epoch")}


def fig12(sigmas: pd.DataFrame, diverged: pd.DataFrame | None = None):
    """σ⁽ˡ⁾ against layer, one panel per architecture: plain blue, residual red; solid after the first
    iteration, dotted at the first iteration of the last epoch; mean ± sd over seeds; diverged: the runs
    (arch, net, depth, run_id) left out, counted in the legends."""
    gone = diverged if diverged is not None else pd.DataFrame(columns=["arch", "net", "depth", "run_id"])
    if sigmas.empty:
        sigmas = pd.DataFrame(columns=["arch", "net", "depth", "seed", "stage", "layer", "sigma"])
    panels = list(dict.fromkeys([*sigmas.arch, *gone.arch]))
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), constrained_layout=True, squeeze=False)
    plotted = []
    for ax, arch in zip(axes[0], panels):
        cell = sigmas[sigmas.arch == arch]
        depth = int((cell if len(cell) else gone[gone.arch == arch]).depth.iloc[0])
        for net, color in (("plain", PLAIN), ("residual", RESIDUAL)):
            lost = count_diverged(gone, arch=arch, net=net)
            if cell[cell.net == net].empty:
                ax.plot([], [], " ", label=f"{net}: all {lost} run(s) diverged, nothing to draw")
                continue
            for stage, (style, words) in STAGE_STYLES.items():
                stats = mean_sd(cell[(cell.net == net) & (cell.stage == stage)], [], "layer", "sigma")
                errorbars(ax, stats, "layer", color, f"{net}, {words}" + left_out(lost), style)
                plotted.append(stats.assign(arch=arch, depth=depth, net=net, stage=stage))
        ax.set(
            xlabel="layer ℓ",
            ylabel="σ⁽ˡ⁾: fraction of dominant gradient flows (Eq. 13)",
            ylim=(0, 1.02),
            title=f"{arch}, depth {depth}",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    columns = ["arch", "depth", "net", "stage", "layer", "mean", "sd", "n"]
    return fig, stacked(plotted, columns)[columns]


# ---------------------------------------------------------------- simulations: YT Figs 11 and 13

FIG11_AXES = {
    "n": ("dimension $n$", "(a)"),
    "l": ("layer index $l$", "(b)"),
    "sigma_A": ("$\\sigma_A$ (sd of the entries of $A$)", "(c)"),
    "sigma_V": ("$\\sigma_V$ (sd of $\\partial\\mathcal{L}/\\partial a^{(L)}$)", "(d)"),
    "p": ("$p$ = P[$S_{ii}$ = 1]", "(e)"),
    "eps": ("$\\epsilon$ (residual $K = I + \\epsilon A$)", "(f)"),
}


FIG11_LOG_X = ("sigma_A", "sigma_V", "eps")


FIG11_SYMBOLS = {"n": "n", "eps": "ε", "L": "L", "l": "l", "p": "p", "sigma_A": "σ_A", "sigma_V": "σ_V"}


def _fig11_panel(ax, panel: pd.DataFrame, parameter: str, i: int) -> None:
    """One panel of Fig 11: E[σ] against the swept parameter, both nets ± 1.96 se, Eq. 11 and its variant."""
    for net, color in (("plain", PLAIN), ("residual", RESIDUAL)):
        at = panel[panel.net == net]
        if not at.empty:
            errorbars(ax, at.assign(sd=1.96 * at.se), "value", color, f"{net}, Monte Carlo ± 1.96 se")
    residual = panel[panel.net == "residual"]
    if not residual.empty:
        ax.plot(
            residual.value,
            residual.approx_eq11,
            ":",
            color=RESIDUAL,
            lw=2.2,
            label="residual, Eq. 11: $p^{L-l}/(1+r^{-1.2})$",
        )
        ax.plot(
            residual.value,
            residual.approx_conclusion,
            "--",
            color="0.45",
            lw=0.9,
            label="“in conclusion” r ($L-l$ for $p'$)",
        )
    label, letter = FIG11_AXES.get(parameter, (parameter, ""))
    letter = letter or f"({'abcdefghijkl'[i]})"
    values = panel.value.to_numpy(dtype=float)
    if parameter in FIG11_LOG_X or (parameter == "n" and values.min() > 0 and values.max() / values.min() >= 10):
        ax.set_xscale("log")
    if parameter in ("n", "l", "L"):  # integer axes: plain numbers, on log axes at 1, 2, 5 × 10^k
        ax.xaxis.set_major_locator(
            matplotlib.ticker.FixedLocator([v for v in values if f"{v:g}"[0] in "125"])
            if ax.get_xscale() == "log"
            else MaxNLocator(integer=True)
        )
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set(
        xlabel=label,
        ylabel="$\\mathbb{E}[\\sigma^{(l)}]$",
        ylim=(-0.02, 1.02),
        title=f"{letter} E[σ⁽ˡ⁾] against {FIG11_SYMBOLS.get(parameter, parameter)}",
    )
    ax.grid(alpha=0.3, which="both")


def fig11(table: pd.DataFrame):
    """YT Fig 11: Monte Carlo E[σ⁽ˡ⁾] of plain (blue) and residual (red) nets in the trivial case, one panel
    per swept parameter, ± 1.96 se, with the residual approximation of Eq. 11 (red dotted) and, thin grey,
    the paper's "in conclusion" variant (L−l in place of p′). table: trivial.fig11_table's rows."""
    parameters = list(dict.fromkeys(table.parameter))
    fixed = {k: table.loc[table.parameter != k, k].iloc[0] for k in FIG11_SYMBOLS if (table.parameter != k).any()}
    rows = -(-len(parameters) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(13.5, 3.9 * rows), constrained_layout=True, squeeze=False)
    plotted = []
    for i, (ax, parameter) in enumerate(zip(axes.flat, parameters)):
        panel = table[table.parameter == parameter].sort_values("value")
        _fig11_panel(ax, panel, parameter, i)
        plotted.append(panel.assign(ci95=1.96 * panel.se))
    for ax in axes.flat[len(parameters) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=9)
    trials = ", ".join(f"{t:,}" for t in sorted(table.trials.unique()))
    fig.suptitle(
        "YT Fig 11, trivial case: fraction of dominant gradient flows\nfixed unless swept: "
        + ", ".join(f"{FIG11_SYMBOLS[k]} = {v:g}" for k, v in fixed.items())
        + f"; {trials} trials per point"
    )
    data = pd.concat(plotted, ignore_index=True)
    keep = [
        "parameter",
        "value",
        "net",
        *FIG11_SYMBOLS,
        "trials",
        "seed",
        "mean",
        "se",
        "ci95",
        "approx_eq11",
        "approx_conclusion",
    ]
    return fig, data[[c for c in keep if c in data.columns]]


def fig13(table: pd.DataFrame, max_error_info: dict, mc: pd.DataFrame | None = None):
    """YT Fig 13: φ(r) = P[|X| > |Y|] by quadrature (Eq. 14, blue) on a log r axis, red lines at φ(1) = 1/2,
    the closed form (2/π)·arctan r (dashed), the approximation 1/(1+r^−c) (Eq. 15, thin magenta) and, when
    given, Monte Carlo estimates (± 1.96 se); below, the approximation's error with its largest |error|
    (gaussian.approx_max_error) marked at r* and, by the symmetry φ(r) + φ(1/r) = 1, at 1/r*."""
    c = float(table.c.iloc[0])
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True, gridspec_kw={"height_ratios": [3, 1.4]}
    )
    r = table.r
    top.plot(r, table.phi_integral, color=PLAIN, lw=2.2, label="φ(r) by numerical integration (Eq. 14)")
    top.plot(r, table.phi_closed, "--", color="black", lw=0.9, label="closed form $(2/\\pi)\\arctan r$")
    top.plot(r, table.phi_approx, color="magenta", lw=0.7, label=f"approximation $1/(1+r^{{-{c:g}}})$ (Eq. 15)")
    top.plot([r.min(), 1.0], [0.5, 0.5], color="red", lw=1.0)
    top.plot([1.0, 1.0], [0.0, 0.5], color="red", lw=1.0, label="φ(1) = 1/2")
    if mc is not None and not mc.empty:
        top.errorbar(
            mc.r,
            mc.phi_mc,
            yerr=1.96 * mc.se,
            fmt="o",
            ms=4,
            color="black",
            mfc="none",
            label=f"Monte Carlo, {int(mc.trials.iloc[0]):,} draws (± 1.96 se)",
        )
    gap = float((table.phi_integral - table.phi_closed).abs().max())
    top.set(
        xscale="log",
        ylim=(0, 1),
        ylabel="φ(r) = P[|X| > |Y|]",
        title=f"YT Fig 13: φ(r), r = σ_X/σ_Y; max |integral − closed form| on the grid = {gap:.1e}",
    )
    top.legend(fontsize=8, loc="upper left")
    top.grid(alpha=0.3, which="both")
    bottom.plot(r, table.approx_error, color="magenta", lw=1.2, label=f"$1/(1+r^{{-{c:g}}})$ − φ(r)")
    bottom.axhline(0, color="0.5", lw=0.6)
    r_star, err = max_error_info["r"], max_error_info["error"]
    bottom.plot(
        [r_star, 1 / r_star],
        [err, -err],
        "o",
        color="black",
        ms=4,
        label=f"max |error| {abs(err):.4f} at r = {r_star:.3f} and {1 / r_star:.3f}",
    )
    bottom.set(xscale="log", xlabel="r = σ_X / σ_Y (log scale)", ylabel="error")
    bottom.legend(fontsize=8, loc="upper left")
    bottom.grid(alpha=0.3, which="both")
    parts = [
        table.assign(kind="grid"),
        pd.DataFrame({"kind": "max_error", "r": [r_star, 1 / r_star], "approx_error": [err, -err], "c": c}),
    ]
    if mc is not None and not mc.empty:
        parts.append(mc.assign(kind="monte_carlo"))
    return fig, pd.concat(parts, ignore_index=True)
