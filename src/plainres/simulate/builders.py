"""The results that need no CIFAR training, each f(spec, threads) → (figure, plotted data) from its config entry
(config.yaml `simulations:`): YT Figs 4, 5 (diagrams), 11, 13; LW Fig 1(a–f) and Theorem 1. `threads`: the cores
it may use (the Monte Carlo of Fig 11 and the MLPs use them; the exact series and diagrams run on one). The target
registry (plainres.targets) names each one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import diagrams, figures
from ..models import build_model
from . import ensemble, gaussian, residual_mlp, trivial


def _grid(spec: dict) -> np.ndarray:
    """A log-spaced grid {from, to, points} (decades), as np.logspace."""
    return np.logspace(spec["from"], spec["to"], spec["points"])


def yt_fig4(spec: dict, threads: int = 1):
    nets = [build_model(spec["arch"], net, spec["depth"]) for net in ("plain", "residual")]
    return diagrams.yt_fig4(*nets, title=f"{spec['arch']} nets, depth {spec['depth']}")


def yt_fig5(spec: dict, threads: int = 1):
    return diagrams.yt_fig5(*diagrams.fig5_blocks(spec["archs"], spec["depth"], spec["block"]))


def yt_fig11(spec: dict, threads: int):
    table = trivial.fig11_table(
        spec["defaults"], spec["sweeps"], spec["trials"], spec["seed"], c=spec["c"], threads=threads
    )
    return figures.fig11(table)


def yt_fig13(spec: dict, threads: int = 1):
    table = gaussian.phi_table(spec["r_min"], spec["r_max"], spec["points"], c=spec["c"])
    worst = gaussian.approx_max_error(spec["c"], spec["r_min"], spec["r_max"], spec["error_grid"])
    mc = gaussian.phi_monte_carlo_table(spec["mc_r"], spec["mc_trials"], spec["seed"])
    return figures.fig13(table, worst, mc)


def mlp_settings(spec: dict, batch_norm: bool) -> dict[tuple[float, int], dict]:
    """LW App. C's residual MLP with (Fig 1(d)) or without (Fig 1(e)) BN, its `common` settings then the net's own:
    each of `seeds` seeds (seed_offset, …; a seed draws the data, the weights and the minibatch order) at the net's
    lr, and the first seed at every lr of the net's `sweep`; by (lr, seed), the first seed's run at the chosen lr
    once."""
    own = dict(spec["bn" if batch_norm else "no_bn"])
    lr, sweep = own.pop("lr"), own.pop("sweep")
    seeds = range(spec["seed_offset"], spec["seed_offset"] + spec["seeds"])
    jobs = dict.fromkeys([(lr, s) for s in seeds] + [(x, seeds[0]) for x in sweep])
    return {
        (x, s): {**spec["common"], **own, "lr": x, "data_seed": s, "seed": s, "batch_norm": batch_norm} for x, s in jobs
    }


def _mlp_records(spec: dict, batch_norm: bool, threads: int) -> tuple[dict, dict, float]:
    """The runs of `mlp_settings`, trained together (residual_mlp.train_many). Returns ({seed: record} at the net's
    lr, {lr: record} of the first seed, lr); the first seed's run at the chosen lr is read by both."""
    settings = mlp_settings(spec, batch_norm)
    records = dict(zip(settings, residual_mlp.train_many(list(settings.values()), threads)))
    lr = spec["bn" if batch_norm else "no_bn"]["lr"]
    seeds = {s: r for (x, s), r in records.items() if x == lr}
    return seeds, {x: r for (x, s), r in sorted(records.items()) if s == spec["seed_offset"]}, lr


def lw_fig1_d(spec: dict, threads: int):
    return figures.lw_fig1_d(*_mlp_records(spec, True, threads), n_stages=spec["stages"])


def lw_fig1_e(spec: dict, threads: int):
    return figures.lw_fig1_e(*_mlp_records(spec, False, threads))


def lw_fig1_abc(spec: dict, threads: int = 1):
    return figures.lw_fig1_abc(ensemble.fig1_abc_table(spec["p"], spec["betas"]))


def lw_theorem1(spec: dict, threads: int = 1):
    return figures.lw_theorem1(ensemble.theorem1_table(spec["betas"], spec["ps"]))


def lw_fig1_f(spec: dict, threads: int = 1):
    betas = _grid(spec["betas"])
    return figures.lw_fig1_f(
        pd.concat([ensemble.fig1_f_table(spec["p"], betas, r) for r in spec["r_starts"]], ignore_index=True)
    )
