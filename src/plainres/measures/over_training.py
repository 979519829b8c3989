"""The scale study's measured claims, at every snapshot epoch of its runs: Fig 3's layer cushion, Fig 12's σ⁽ˡ⁾,
the interlayer cushion of §4 and LW App. C's absorbed conv norms, each with the parameters of its own target
(their settings: configuration.study_specs), so that each claim can be weighed as if training had stopped there.

One tidy row per value: measure (the target), net, arch, dataset, depth, seed, epoch (the snapshot measured),
stage and layer where the measure has them, value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..runfolder import RunFolder
from .absorb import layer_norms
from .cushion import interlayer_cushion, layer_cushion
from .gradflow import fig12_stages, run_flow_fractions


def measure_run(run, epochs: list[int], kinds: list[str], sets, measures: dict, images: int) -> list[dict]:
    """Every measure of `kinds` of one run (a row of collect.collect) at each snapshot epoch in `epochs` (≥ 1; LW
    App. C's norms from epoch 0), over the first `images` of its training images. Fig 12's σ at epoch e is its
    'last' stage for a run of e + 1 epochs: the state after e epochs, on the first minibatch the run drew next (so
    e < its last epoch); its 'first' stage (after iteration 1, on the minibatch of iteration 2) is recorded once,
    as epoch 0."""
    run_dir, train = Path(run.dir), sets(run.train_subset)
    x = train.train_x[:images]
    ident = {"net": run.net, "arch": run.arch, "dataset": run.dataset, "depth": run.depth, "seed": run.seed}
    rows = []
    if "yt_fig12" in kinds:  # after iteration 1, on the minibatch of iteration 2: one stage for every epoch
        rows += [
            {"measure": "yt_fig12", "epoch": 0, "stage": r["stage"], "layer": r["layer"], "value": r["sigma"]}
            for r in run_flow_fractions(run_dir, sets, fig12_stages(run.epochs)[:1])
        ]
    for e in epochs:
        if e == 0 and "lw_appc" not in kinds:
            continue
        net = RunFolder(run_dir).net(f"epoch_{e}")
        if "lw_appc" in kinds:  # from the initialisation on: the claim compares the first epoch with the last
            rows += [
                {"measure": "lw_appc", "epoch": e, "layer": r["layer"], "value": r["absorbed_norm"]}
                for r in layer_norms(net)
            ]
        if e == 0:
            continue
        if "yt_fig3" in kinds:
            mu = layer_cushion(net, measures["yt_fig3"]["layer"], x, prepare=train.normalise)
            rows += [{"measure": "yt_fig3", "epoch": e, "value": v} for v in mu.tolist()]
        if "yt_cushion_full" in kinds:
            spec = measures["yt_cushion_full"]
            mu = interlayer_cushion(net, spec["block"], x, spec["probes"], prepare=train.normalise)["mu"]
            rows += [{"measure": "yt_cushion_full", "epoch": e, "value": v} for v in mu.tolist()]
        if "yt_fig12" in kinds and e < run.epochs:
            rows += [
                {"measure": "yt_fig12", "epoch": e, "stage": r["stage"], "layer": r["layer"], "value": r["sigma"]}
                for r in run_flow_fractions(run_dir, sets, fig12_stages(e + 1)[1:])
            ]
    return [{**ident, **row} for row in rows]


def measure(runs: pd.DataFrame, kinds: dict[str, list[str]], sets, measures: dict, images: int) -> pd.DataFrame:
    """`measure_run` of every run that did not diverge, at each of its snapshot epochs (runs: collect.collect with
    columns `setting` and `experiment`, the experiment of `scale_study.reads` each stands for; kinds:
    configuration.study_measures)."""

    rows = []
    for run in runs[runs.status != "diverged"].itertuples():
        wanted = kinds.get(run.experiment, [])
        if wanted:
            epochs = sorted(RunFolder(run.dir).run_config()[1].snapshot_epochs_resolved())
            rows += [
                {"setting": run.setting, **row} for row in measure_run(run, epochs, wanted, sets, measures, images)
            ]
    columns = ["setting", "measure", "net", "arch", "dataset", "depth", "seed", "epoch", "stage", "layer", "value"]
    return pd.DataFrame(rows, columns=columns)
