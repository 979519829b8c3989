"""YT's figures from finished runs, in the paper's conventions: plain blue, residual red, thick lines
for means and error bars whose half length is the sd over seeds, log axes where the paper has them.
Each figure is a PNG and a PDF with its provenance in the file metadata and in a footer, and a CSV
of exactly the numbers it plots.
"""
from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from .files import atomic_write_bytes  # noqa: E402
from .runfolder import RunFolder  # noqa: E402
from .tables import notes_of, read_runs, write_tidy_csv  # noqa: E402

PLAIN, RESIDUAL = "tab:blue", "tab:red"
DEPTH_STYLES = ("-", ":", "--", "-.")


def curves(done_files: list[Path]) -> pd.DataFrame:
    """One row per (run, evaluated epoch): the run's identity and provenance, epoch, SGD steps, L, E."""
    rows = []
    for run, metrics in read_runs(done_files):
        for m in metrics:
            rows.append({**run, "epoch": int(m["epoch"]), "iteration": int(m["iteration"]),
                         "L": float(m["train_loss"]), "E": float(m["test_error"])})
    return pd.DataFrame(rows)


def iterations(run_dir: str) -> pd.DataFrame:
    """A run's iterations.csv: every SGD step's minibatch loss (float64 repr, exact)."""
    rows = RunFolder(run_dir).iterations()
    return pd.DataFrame({"iteration": [int(r["iteration"]) for r in rows],
                         "epoch": [int(r["epoch"]) for r in rows],
                         "L": [float(r["minibatch_loss"]) for r in rows]})


def mean_sd(frame: pd.DataFrame, by: list[str], x: str, quantity: str) -> pd.DataFrame:
    """Mean, sd (ddof 1; 0 for one seed) and n of `quantity` over seeds at every x."""
    g = frame.groupby([*by, x])[quantity]
    out = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1).fillna(0.0), "n": g.size()}).reset_index()
    return out.assign(quantity=quantity)


def errorbars(ax, stats: pd.DataFrame, x: str, color: str, label: str, style: str = "-"):
    """A thick mean line and thin sd error bars (at most ~40 of them, so long runs stay readable);
    markers too when there are few points."""
    ax.plot(stats[x], stats["mean"], style, color=color, lw=1.8, label=label,
            marker="o" if len(stats) <= 30 else None, ms=3)
    ax.errorbar(stats[x], stats["mean"], yerr=stats["sd"], fmt="none", ecolor=color, elinewidth=0.8, alpha=0.45,
                errorevery=max(1, len(stats) // 40))


def histogram(ax, values: np.ndarray, edges: np.ndarray, color: str, label: str, alpha: float = 0.45,
              **columns) -> pd.DataFrame:
    """Draw the histogram of `values` over `edges`; return its bins (left, right, count) with `columns`."""
    counts, _ = np.histogram(values, edges)
    ax.stairs(counts, edges, color=color, fill=True, alpha=alpha, label=label)
    return pd.DataFrame({**columns, "left": edges[:-1], "right": edges[1:], "count": counts})


def split_diverged(runs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the rows of runs that finished, those of runs that diverged): a diverged run is in no mean or histogram."""
    if "status" not in runs:
        return runs, runs.iloc[:0]
    gone = runs.status == "diverged"
    return runs[~gone], runs[gone]


def count_diverged(diverged: pd.DataFrame | None, **where) -> int:
    """How many of the diverged runs match `where` (column = value)."""
    if diverged is None or diverged.empty:
        return 0
    hit = diverged
    for column, wanted in where.items():
        hit = hit[hit[column] == wanted]
    return hit.run_id.nunique() if "run_id" in hit else len(hit)


def left_out(n: int) -> str:
    """A legend's note of the diverged runs left out of its line or histogram."""
    return f", {n} diverged (left out)" if n else ""


def nothing_drawn(ax, text: str) -> None:
    """A panel with nothing to draw says why (its runs all diverged)."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="0.4", wrap=True)


def stacked(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    """The plotted parts as one frame; an empty one with `columns` when nothing was drawn."""
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def loss_axis(ax, label: str):
    """A log-scale loss axis whose ticks read as plain numbers, also over a narrow range."""
    def minor(v, _):  # minor ticks are labelled only when the axis spans less than a decade
        lo, hi = ax.get_ylim()
        return f"{v:g}" if lo > 0 and hi / lo < 10 else ""

    ax.set_yscale("log")
    ax.set_ylabel(label)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))
    ax.tick_params(axis="y", which="minor", labelsize=7)


def epoch_axis(ax):
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


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
        left.annotate(f"{net}: L ≤ {reach_loss:g} " + (f"at epoch {reached}" if reached is not None else "not reached"),
                      xy=(0.98, 0.93 if net == "plain" else 0.86), xycoords="axes fraction", ha="right",
                      color=color, fontsize=9)
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
        left.plot(joined.iteration, joined.L_plain, color=PLAIN, lw=0.8, alpha=0.8,
                  label="plain, $p_0=\\mathcal{T}(r_0)$" if i == 0 else None)
        left.plot(joined.iteration, joined.L_residual, "--", color=RESIDUAL, lw=0.8, alpha=0.8,
                  label="residual, $r_0$" if i == 0 else None)
        exact = joined.abs_diff == 0
        right.plot(joined.iteration[~exact], joined.abs_diff[~exact], ".", ms=2, alpha=0.6,
                   label=f"{tag}: {int(exact.sum())} of {len(joined)} steps exactly equal")
    loss_axis(left, "minibatch loss $\\mathcal{L}$ (log scale)")
    left.set(xlabel="iteration (SGD step)", title=f"equivalent pair, depth {depth}, float64")
    right.set(yscale="log", xlabel="iteration (SGD step)", ylabel="$|\\Delta\\mathcal{L}|$ (log scale)",
              title="|plain − residual|; exact zeros not drawn")
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
            errorbars(left, stats, "epoch", color,
                      f"{name}, depth {depth}" + left_out(count_diverged(diverged, init=init, depth=depth)), style)
            if len(stats):
                last = stats.iloc[-1]
                left.annotate(f"{last['mean']:.3g}", (last["epoch"], last["mean"]), xytext=(4, 0),
                              textcoords="offset points", color=color, fontsize=8, va="center")
            data.append(stats.assign(init=init, depth=depth, panel="left"))
    paired = frame.pivot_table(index=["depth", "seed", "epoch"], columns="init", values="L")
    paired = paired.reindex(columns=["kwi", "t-hmwi"]).dropna().reset_index()  # both inits of a seed, where left
    paired["gap"] = paired["kwi"] - paired["t-hmwi"]
    colours = plt.cm.viridis(np.linspace(0.0, 0.85, paired.depth.nunique()))
    for (depth, runs), colour in zip(paired.groupby("depth"), colours):
        stats = mean_sd(runs, [], "epoch", "gap")
        positive = stats[stats["mean"] > 0]
        hidden = f"; ≤ 0 at {len(stats) - len(positive)} of {len(stats)} epochs" if len(positive) < len(stats) else ""
        errorbars(right, positive, "epoch", colour,
                  f"depth {depth} (n={runs.seed.nunique()}){left_out(count_diverged(diverged, depth=depth))}{hidden}")
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
                ax.plot([], [], " ", label=f"{net}: all {lost} run(s) diverged, nothing to draw" if cell.empty else
                        f"{net}: μ undefined for all {undefined} samples" + left_out(lost))
                continue
            seeds = cell.seed.nunique() if "seed" in cell else 1
            # each net its own log-spaced bins: the two can be a decade apart and each is narrow
            edges = np.geomspace(mu.min(), mu.max() * (1 + 1e-9), bins + 1)
            data.append(histogram(ax, mu, edges, color,
                                  f"{net}: μ {mu.mean():.3g} ± {mu.std(ddof=1):.2g}, E = {errors[net, depth]:.4g}"
                                  + (f" ({seeds} seeds pooled)" if seeds > 1 else "") + left_out(lost)
                                  + (f", {undefined} samples with μ undefined" if undefined else ""),
                                  net=net, depth=depth, mean=mu.mean(), sd=mu.std(ddof=1), n=len(mu), seeds=seeds))
        if not any(part.depth.iloc[0] == depth for part in data):
            nothing_drawn(ax, "nothing to draw: " + ("all runs diverged" if at.empty else "μ undefined"))
        ax.set(xscale="log", xlabel=f"layer cushion $\\mu_{{{layer}}}(x)$ (log scale)", ylabel="training samples",
               title=f"layer {layer} of depth {depth}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig, stacked(data, ["net", "depth", "mean", "sd", "n", "seeds", "left", "right", "count"])


# ---------------------------------------------------------------- YT Fig 7

FIG7_LARGE = 0.7  # YT App. C counts the weights of p with magnitude above 0.7 (1 before, 26 after training)


def fig7(vectors: dict[str, tuple], depth: int, clip: float, bins: int = 200, diverged: dict[str, str] | None = None):
    """Histograms of all weights of p (blue) and t = T(r) (red), the y-axis clipped at `clip`, and of
    t's ID entries alone; before training (left) and after (right). vectors: name → (w, is_id), for the runs
    that finished; diverged: name → the id of the diverged run whose vector is left out.
    The data also holds, per vector, the exact number of weights with |w| > FIG7_LARGE."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), constrained_layout=True)
    diverged = diverged or {}
    if vectors:
        lo = min(v[0].min().item() for v in vectors.values())
        hi = max(v[0].max().item() for v in vectors.values())
        edges = np.linspace(lo, hi, bins + 1)
    data = []
    for col, (when, title) in enumerate((("0", "before training"), ("end", "after training"))):
        top, bottom = axes[0, col], axes[1, col]
        for name, color, label in ((f"p_{when}", PLAIN, "$p$ (KWI)"), (f"t_{when}", RESIDUAL, "$t=\\mathcal{T}(r)$")):
            if name not in vectors:
                top.plot([], [], " ", label=f"{label}: run {diverged.get(name, '?')} diverged, left out")
                continue
            w, _ = vectors[name]
            large = int((w.abs() > FIG7_LARGE).sum())
            data.append(histogram(top, w.numpy(), edges, color,
                                  f"{label}: {len(w)} weights, {large} with |w| > {FIG7_LARGE:g}",
                                  vector=name, panel="all", large=large))
        if f"t_{when}" in vectors:
            w, is_id = vectors[f"t_{when}"]
            id_edges = np.linspace(w[is_id].min().item(), w[is_id].max().item(), 41)
            data.append(histogram(bottom, w[is_id].numpy(), id_edges, RESIDUAL,
                                  f"ID entries of $t$: {int(is_id.sum())}", alpha=0.6, vector=f"t_{when}", panel="id"))
        else:
            nothing_drawn(bottom, f"run {diverged.get(f't_{when}', '?')} diverged")
        top.set(ylim=(0, clip), xlabel="weight value", ylabel=f"count (clipped at {clip:g})",
                title=f"all weights, depth {depth}, {title}")
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
        data = pd.DataFrame({"net": ["residual"], "depth": depth, "mean": np.nan, "sd": np.nan, "n": 0,
                             "iterations": 0, "diverged": diverged})
    else:
        values = grads.flatten().double().numpy()
        mean, sd = values.mean(), values.std(ddof=1)
        edges = np.linspace(values.min(), values.max(), bins + 1)
        data = histogram(ax, values, edges, RESIDUAL,
                         f"residual, depth {depth}: mean {mean:.3g}, sd {sd:.3g}\n{len(values):,} values, "
                         f"{iterations} iterations{left_out(diverged)}",
                         alpha=0.6, net="residual", depth=depth, mean=mean, sd=sd, n=len(values), iterations=iterations)
    ax.set(yscale="log", xlabel="$\\partial\\mathcal{L} / \\partial a^{(L)}$", ylabel="count (log scale)",
           title="gradients of the final activations")
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
        ax.set(xlabel="layer ℓ", ylabel="σ⁽ˡ⁾: fraction of dominant gradient flows (Eq. 13)", ylim=(0, 1.02),
               title=f"{arch}, depth {depth}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    columns = ["arch", "depth", "net", "stage", "layer", "mean", "sd", "n"]
    return fig, stacked(plotted, columns)[columns]


# ---------------------------------------------------------------- simulations: YT Figs 11 and 13

FIG11_AXES = {"n": ("dimension $n$", "(a)"), "l": ("layer index $l$", "(b)"),
              "sigma_A": ("$\\sigma_A$ (sd of the entries of $A$)", "(c)"),
              "sigma_V": ("$\\sigma_V$ (sd of $\\partial\\mathcal{L}/\\partial a^{(L)}$)", "(d)"),
              "p": ("$p$ = P[$S_{ii}$ = 1]", "(e)"), "eps": ("$\\epsilon$ (residual $K = I + \\epsilon A$)", "(f)")}
FIG11_LOG_X = ("sigma_A", "sigma_V", "eps")
FIG11_SYMBOLS = {"n": "n", "eps": "ε", "L": "L", "l": "l", "p": "p", "sigma_A": "σ_A", "sigma_V": "σ_V"}


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
        for net, color in (("plain", PLAIN), ("residual", RESIDUAL)):
            at = panel[panel.net == net]
            if not at.empty:
                errorbars(ax, at.assign(sd=1.96 * at.se), "value", color, f"{net}, Monte Carlo ± 1.96 se")
        residual = panel[panel.net == "residual"]
        if not residual.empty:
            ax.plot(residual.value, residual.approx_eq11, ":", color=RESIDUAL, lw=2.2,
                    label="residual, Eq. 11: $p^{L-l}/(1+r^{-1.2})$")
            ax.plot(residual.value, residual.approx_conclusion, "--", color="0.45", lw=0.9,
                    label="“in conclusion” r ($L-l$ for $p'$)")
        label, letter = FIG11_AXES.get(parameter, (parameter, ""))
        letter = letter or f"({'abcdefghijkl'[i]})"
        values = panel.value.to_numpy(dtype=float)
        if parameter in FIG11_LOG_X or (parameter == "n" and values.min() > 0 and values.max() / values.min() >= 10):
            ax.set_xscale("log")
        if parameter in ("n", "l", "L"):   # integer axes: plain numbers, on log axes at 1, 2, 5 × 10^k
            ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator([v for v in values if f"{v:g}"[0] in "125"])
                                       if ax.get_xscale() == "log" else MaxNLocator(integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set(xlabel=label, ylabel="$\\mathbb{E}[\\sigma^{(l)}]$", ylim=(-0.02, 1.02),
               title=f"{letter} E[σ⁽ˡ⁾] against {FIG11_SYMBOLS.get(parameter, parameter)}")
        ax.grid(alpha=0.3, which="both")
        plotted.append(panel.assign(ci95=1.96 * panel.se))
    for ax in axes.flat[len(parameters):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=9)
    trials = ", ".join(f"{t:,}" for t in sorted(table.trials.unique()))
    fig.suptitle("YT Fig 11, trivial case: fraction of dominant gradient flows\nfixed unless swept: "
                 + ", ".join(f"{FIG11_SYMBOLS[k]} = {v:g}" for k, v in fixed.items()) + f"; {trials} trials per point")
    data = pd.concat(plotted, ignore_index=True)
    keep = ["parameter", "value", "net", *FIG11_SYMBOLS, "trials", "seed", "mean", "se", "ci95",
            "approx_eq11", "approx_conclusion"]
    return fig, data[[c for c in keep if c in data.columns]]


def fig13(table: pd.DataFrame, max_error_info: dict, mc: pd.DataFrame | None = None):
    """YT Fig 13: φ(r) = P[|X| > |Y|] by quadrature (Eq. 14, blue) on a log r axis, red lines at φ(1) = 1/2,
    the closed form (2/π)·arctan r (dashed), the approximation 1/(1+r^−c) (Eq. 15, thin magenta) and, when
    given, Monte Carlo estimates (± 1.96 se); below, the approximation's error with its largest |error|
    (gaussian.approx_max_error) marked at r* and, by the symmetry φ(r) + φ(1/r) = 1, at 1/r*."""
    c = float(table.c.iloc[0])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, constrained_layout=True,
                                      gridspec_kw={"height_ratios": [3, 1.4]})
    r = table.r
    top.plot(r, table.phi_integral, color=PLAIN, lw=2.2, label="φ(r) by numerical integration (Eq. 14)")
    top.plot(r, table.phi_closed, "--", color="black", lw=0.9, label="closed form $(2/\\pi)\\arctan r$")
    top.plot(r, table.phi_approx, color="magenta", lw=0.7, label=f"approximation $1/(1+r^{{-{c:g}}})$ (Eq. 15)")
    top.plot([r.min(), 1.0], [0.5, 0.5], color="red", lw=1.0)
    top.plot([1.0, 1.0], [0.0, 0.5], color="red", lw=1.0, label="φ(1) = 1/2")
    if mc is not None and not mc.empty:
        top.errorbar(mc.r, mc.phi_mc, yerr=1.96 * mc.se, fmt="o", ms=4, color="black", mfc="none",
                     label=f"Monte Carlo, {int(mc.trials.iloc[0]):,} draws (± 1.96 se)")
    gap = float((table.phi_integral - table.phi_closed).abs().max())
    top.set(xscale="log", ylim=(0, 1), ylabel="φ(r) = P[|X| > |Y|]",
            title=f"YT Fig 13: φ(r), r = σ_X/σ_Y; max |integral − closed form| on the grid = {gap:.1e}")
    top.legend(fontsize=8, loc="upper left")
    top.grid(alpha=0.3, which="both")
    bottom.plot(r, table.approx_error, color="magenta", lw=1.2, label=f"$1/(1+r^{{-{c:g}}})$ − φ(r)")
    bottom.axhline(0, color="0.5", lw=0.6)
    r_star, err = max_error_info["r"], max_error_info["error"]
    bottom.plot([r_star, 1 / r_star], [err, -err], "o", color="black", ms=4,
                label=f"max |error| {abs(err):.4f} at r = {r_star:.3f} and {1 / r_star:.3f}")
    bottom.set(xscale="log", xlabel="r = σ_X / σ_Y (log scale)", ylabel="error")
    bottom.legend(fontsize=8, loc="upper left")
    bottom.grid(alpha=0.3, which="both")
    parts = [table.assign(kind="grid"),
             pd.DataFrame({"kind": "max_error", "r": [r_star, 1 / r_star], "approx_error": [err, -err], "c": c})]
    if mc is not None and not mc.empty:
        parts.append(mc.assign(kind="monte_carlo"))
    return fig, pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- LW Fig 1 and Theorem 1: the ensemble of path lengths

def lw_fig1_abc(table: pd.DataFrame):
    """LW Fig. 1(a–c): bar histograms of ε_r (Eq. 15) against the path length r, one panel per (p, β);
    table as ensemble.fig1_abc_table (beta, p, r, epsilon)."""
    panels = list(table.sort_values(["p", "beta", "r"]).groupby(["p", "beta"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.3 * len(panels), 3.6), constrained_layout=True, squeeze=False)
    for i, (ax, ((p, beta), rows)) in enumerate(zip(axes[0], panels)):
        ax.bar(rows.r, rows.epsilon, width=1.0, color=RESIDUAL, alpha=0.8)
        ax.set(xlim=(0.5, p + 0.5), xlabel="path length $r$", ylabel="$\\epsilon_r$",
               title=f"({chr(ord('a') + i)}) β = {beta:g}, p = {p}")
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
    ax.set(xscale="log", ylim=(0, 1), xlabel="depth $p$ (log scale)",
           ylabel="$\\arg\\max_r\\, \\epsilon_r \\,/\\, p$", title="Theorem 1: the effective depth of the ensemble")
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
        ax.plot(rows.beta, rows.theta_k, DEPTH_STYLES[i % len(DEPTH_STYLES)], color=colours[p], lw=1.6,
                label=f"p = {p}, sums over r = {r_start}..p")
    for p in depths:
        bound = table[table.p == p].bound.iloc[0]
        ax.axhline(bound, ls="--", lw=1.0, color=colours[p],
                   label=f"Theorem 5 bound ½log(p−1) − (1−2/p) = {bound:.4g} (p = {p})")
    ax.set(xscale="log", xlabel="$\\beta = \\rho n C / \\sqrt{\\Lambda}$ (log scale)",
           ylabel="$\\theta_k(\\mathbb{R}, \\epsilon)$", title="Fig. 1(f): critical points of finite index")
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


def lw_fig1_d(record: dict, stages=None, n_stages: int = 6, column: str = "lambda"):
    """LW Fig. 1(d): the BN scales λ_l (Eq. 22) against layer l, one line per stage of training (later stages
    darker); right, λ₁ and the mean of λ₂..λ_L against iteration, with the train loss."""
    lam, metrics = record["lambdas"], record["metrics"]
    chosen = stage_iterations(lam.iteration, stages, n_stages)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    colors = plt.cm.viridis_r(np.linspace(0.15, 1.0, len(chosen)))
    rows = []
    for color, t in zip(colors, chosen):
        at = lam[lam.iteration == t].sort_values("layer")
        left.plot(at.layer, at[column], "-o", color=color, ms=4, lw=1.6, label=f"iteration {t:,}")
        rows.append(pd.DataFrame({"panel": "by layer", "series": f"iteration {t}", "iteration": t,
                                  "layer": at.layer.to_numpy(), "value": at[column].to_numpy()}))
    what = "mean of γ over units" if column == "lambda" else "mean of |γ| over units"
    left.set(xlabel="layer l (1 cannot be skipped)", ylabel=f"λ_l ({what})", title="BN scale λ_l per layer")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.grid(alpha=0.3)
    left.legend(fontsize=8, title="stage of training", title_fontsize=8)

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
    rows += [pd.DataFrame({"panel": "over training", "series": "lambda_1", "iteration": first.iteration.to_numpy(),
                           "layer": 1, "value": first[column].to_numpy()}),
             pd.DataFrame({"panel": "over training", "series": "mean lambda_2..L",
                           "iteration": skipped.iteration.to_numpy(), "layer": np.nan,
                           "value": skipped[column].to_numpy()}),
             pd.DataFrame({"panel": "over training", "series": "train_loss",
                           "iteration": metrics.iteration.to_numpy(), "layer": np.nan,
                           "value": metrics.train_loss.to_numpy()})]
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
    data = pd.concat([
        pd.DataFrame({"panel": "w_norm", "series": "w_norm", "iteration": norms.iteration, "value": norms.w_norm}),
        pd.DataFrame({"panel": "loss", "series": "train_loss", "iteration": metrics.iteration,
                      "value": metrics.train_loss}),
        pd.DataFrame({"panel": "loss", "series": "test_loss", "iteration": metrics.iteration,
                      "value": metrics.test_loss})], ignore_index=True)
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
    fig, axes = plt.subplots(2, 2 * len(datasets), figsize=(10 * len(datasets), 8), constrained_layout=True,
                             squeeze=False)
    plotted = []
    for d, dataset in enumerate(datasets):
        cell = norms[norms.dataset == dataset]
        lost = count_diverged(gone, dataset=dataset)
        if cell.empty:
            depth = int(gone[gone.dataset == dataset].depth.iloc[0])
            for ax in axes[:, 2 * d:2 * d + 2].flat:
                nothing_drawn(ax, f"all {lost} run(s) diverged: nothing to draw")
                ax.set_title(f"{dataset}, ResNet-{depth}")
            continue
        depth = int(cell.depth.iloc[0])
        shown = stage_epochs(cell.epoch.unique(), stages)
        colours = plt.cm.viridis_r(np.linspace(0.15, 1.0, len(shown)))
        for (per_layer, over_epochs), quantity, words in (
                (axes[0, 2 * d:2 * d + 2], "absorbed_norm", "‖W·γ/σ‖_F, BN scale absorbed"),
                (axes[1, 2 * d:2 * d + 2], "bn_scale_norm", "‖γ‖₂, BN scale")):
            for epoch, colour in zip(shown, colours):
                stats = mean_sd(cell[cell.epoch == epoch], [], "layer", quantity)
                per_layer.plot(stats.layer, stats["mean"], color=colour, lw=1.4, marker="o", ms=2.5,
                               label=f"epoch {epoch}")
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
            over_epochs.set(xlabel="epoch (dashed: lr ÷ 10)", ylabel=f"mean {words}",
                            title=f"{dataset}: mean over layers")
            over_epochs.legend(fontsize=7)
            plotted.append(stats.assign(dataset=dataset, depth=depth, view="mean_over_layers"))
    for ax in axes.flat:
        ax.grid(alpha=0.3)
    columns = ["dataset", "depth", "view", "quantity", "epoch", "layer", "mean", "sd", "n"]
    return fig, stacked(plotted, columns)[columns]


# ---------------------------------------------------------------- the scale study

def scale_study(table: pd.DataFrame):
    """One panel per claim: the effect in standard errors over seeds (effect / se) against SGD steps, one line per
    setting and case (depth); dotted at ±2 se, where a claim holds (above) or fails (below) with n ≥ 3 seeds.
    table: study.effects."""
    keys = list(dict.fromkeys(table.key))
    cols = min(3, len(keys))
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.9 * rows), constrained_layout=True, squeeze=False)
    styles = dict(zip(dict.fromkeys(table.setting), DEPTH_STYLES * 4))
    plotted = []
    for ax, key in zip(axes.flat, keys):
        at = table[table.key == key]
        cases = list(dict.fromkeys(at.case))
        colours = dict(zip(cases, plt.cm.viridis(np.linspace(0.0, 0.85, len(cases)))))
        drawn = False
        for (setting, case), line in at.groupby(["setting", "case"], sort=False):
            line = line.sort_values("steps")
            z = line.effect / line.se.where(line.se > 0)
            plotted.append(line.assign(z=z))
            if z.notna().any():
                ax.plot(line.steps, z, styles[setting], color=colours[case], lw=1.5, marker="o", ms=2.5,
                        label=f"{setting}{', ' + case if case else ''}")
                drawn = True
        for level in (2, -2):
            ax.axhline(level, color="0.4", ls=":", lw=1.0)
        ax.axhline(0, color="0.6", lw=0.6)
        if drawn:
            ax.set_xscale("log")
            ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))  # a labelled tick within any 2.5×
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not testable in any setting", transform=ax.transAxes, ha="center", color="0.4")
        words = at.claim.iloc[0].split(" at depth ")[0].split(" (")[0]
        ax.set(xlabel="SGD steps (log scale)", ylabel="effect / se over seeds")
        ax.set_title(textwrap.fill(f"{key}: {words}", 60), fontsize=9)
        ax.grid(alpha=0.3, which="both")
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    fig.suptitle("Scale study: each claim's effect in standard errors against training (dotted: ±2 se)")
    return fig, pd.concat(plotted, ignore_index=True)


# ---------------------------------------------------------------- files

def build(target: str, frame: pd.DataFrame, spec: dict):
    """The figure and its data for one target, from the runs of its experiment (`frame`, see curves)."""
    if target == "yt_fig2":
        return fig2(frame, spec["depth"], spec["reach_loss"])
    if target == "yt_fig6":
        at = frame[(frame.depth == spec["depth"]) & (frame.epoch == 0)]
        dirs = {(r.net, r.seed): r.dir for r in at.itertuples()}
        if not any(net == "plain" and ("residual", s) in dirs for net, s in dirs):
            raise ValueError(f"yt_fig6: no plain/residual pair at depth {spec['depth']}")
        ok, diverged = split_diverged(at)
        dirs = {(r.net, r.seed): r.dir for r in ok.itertuples()}
        seeds = sorted(s for net, s in dirs if net == "plain" and ("residual", s) in dirs)
        return fig6([(s, iterations(dirs["plain", s]), iterations(dirs["residual", s])) for s in seeds], spec["depth"],
                    count_diverged(diverged))
    if target == "yt_fig9":
        return fig9(frame, spec["left_depths"])
    raise ValueError(f"no figure {target!r}")


def save(fig, data: pd.DataFrame, stem: Path, caption: str, prov: dict) -> None:
    """stem.png, stem.pdf (provenance in the metadata and a footer) and stem.csv (the plotted numbers)."""
    def short(value: str) -> str:  # a data source is JSON: show its kind and location
        try:
            source = json.loads(value)
            return " ".join(str(source[k]) for k in ("kind", "location") if source.get(k))
        except (ValueError, TypeError, KeyError):
            return value

    footer = " · ".join(f"{k} {short(v) if k == 'data_source' else v}" for k, v in prov.items()
                        if k in ("scale", "data_source", "code_version", "device"))
    fig.text(0.005, 0.002, footer, fontsize=6, color="0.45", ha="left", va="bottom")
    fig.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    described = caption + " | " + "; ".join(f"{k}: {v}" for k, v in prov.items())
    for suffix, metadata in ((".png", {"Description": described}), (".pdf", {"Subject": described})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=suffix[1:], dpi=150, metadata=metadata)
        atomic_write_bytes(stem.with_suffix(suffix), buffer.getvalue())
    plt.close(fig)
    write_tidy_csv(stem.with_suffix(".csv"), data, notes_of(caption, prov))
