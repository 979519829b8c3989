"""The results that need no training, each as (figure, plotted data) from its config entry
(config.yaml `simulations:`): YT Figs 4, 5 (diagrams), 11, 13; LW Fig 1(a–f) and Theorem 1."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import diagrams, figures
from ..models import build_model
from . import ensemble


def _grid(spec: dict) -> np.ndarray:
    """A log-spaced grid {from, to, points} (decades), as np.logspace."""
    return np.logspace(spec["from"], spec["to"], spec["points"])


def yt_fig4(spec: dict):
    nets = [build_model(spec["arch"], net, spec["depth"]) for net in ("plain", "residual")]
    return diagrams.yt_fig4(*nets, title=f"{spec['arch']} nets, depth {spec['depth']}")


def yt_fig5(spec: dict):
    return diagrams.yt_fig5(*diagrams.fig5_blocks(spec["archs"], spec["depth"], spec["block"]))


def lw_fig1_abc(spec: dict):
    return figures.lw_fig1_abc(ensemble.fig1_abc_table(spec["p"], spec["betas"]))


def lw_theorem1(spec: dict):
    return figures.lw_theorem1(ensemble.theorem1_table(spec["betas"], spec["ps"]))


def lw_fig1_f(spec: dict):
    betas = _grid(spec["betas"])
    return figures.lw_fig1_f(pd.concat([ensemble.fig1_f_table(spec["p"], betas, r) for r in spec["r_starts"]],
                                       ignore_index=True))


BUILDERS = {"yt_fig4": yt_fig4, "yt_fig5": yt_fig5, "lw_fig1_abc": lw_fig1_abc, "lw_theorem1": lw_theorem1,
            "lw_fig1_f": lw_fig1_f}


def build(target: str, spec: dict):
    """The figure and its plotted data of one simulation target."""
    if target not in BUILDERS:
        raise ValueError(f"no simulation {target!r}; choose one of {sorted(BUILDERS)}")
    return BUILDERS[target](spec)
