"""Each measurement target's body: from the training jobs it reads (their done.json) and its settings, the
table or figure it makes and the per-seed numbers its claims weigh (targets.Made). The target registry names
them (`make=`); workflow/scripts/from_training.py runs them and writes what they make, with its provenance.

Every function has the signature f(done, spec, images) → Made: `done` the done.json of every group its
experiments need, `spec` its settings (config.yaml), `images` the training images (minibatches.TrainingSets)
where the registry says it reads them (`data=True`), else None.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import torch

from ..collect import collect, first_seeds, nth_seed, split_diverged
from ..figures import style, yt
from ..figures.lw import lw_appc as draw_lw_appc
from ..minibatches import TrainingSets
from ..runfolder import RunFolder
from ..tables import summarise
from ..targets import Made
from . import weights
from .absorb import run_layer_norms
from .cushion import interlayer_cushion, layer_cushion
from .gradflow import run_flow_fractions


def yt_table3(done: list[Path], spec: dict, images: None = None) -> Made:
    """YT Table 3: the weight statistics of p and of t = T(r) before and after training, per seed."""
    runs = collect(done)
    runs = runs[runs.depth == spec["depth"]]
    ok, diverged = split_diverged(runs)
    columns = ["vector", "seed", "depth", "run_id", *weights.STATISTICS]
    per_run = weights.table3_runs(ok, spec["threshold"]) if len(ok) else pd.DataFrame(columns=columns)
    measured = per_run.assign(status="finished")
    if len(diverged):  # each diverged run's vectors: counted, not averaged
        gone = pd.DataFrame(
            [
                {"vector": vector, "seed": run.seed, "depth": run.depth, "run_id": run.run_id, "status": run.status}
                for run in diverged.itertuples()
                for vector, net, _ in weights.VECTORS
                if run.net == net
            ],
            columns=[*columns, "status"],
        )
        measured = pd.concat([measured, gone], ignore_index=True)
    statistics = list(weights.STATISTICS)
    return Made(
        read=runs,
        summary=summarise(measured.rename(columns={"vector": "net"}), statistics),
        quantities=statistics,
        columns=[v for v, *_ in weights.VECTORS],
        files={"weights": per_run},
    )


def yt_cushion_full(done: list[Path], spec: dict, images: TrainingSets) -> Made:
    """YT §4: the interlayer cushion of one block of the trained fully-fledged nets, per image and per seed."""
    runs = collect(done)
    runs = runs[(runs.depth == spec["depth"]) & first_seeds(runs, spec["seeds"])]
    ok, diverged = split_diverged(runs)
    samples = []
    per_run = [{"net": r.net, "depth": r.depth, "seed": r.seed, "status": r.status} for r in diverged.itertuples()]
    for run in ok.itertuples():
        train = images(run.train_subset)  # the images this run trained on
        x = train.train_x[: spec["images"]]
        result = interlayer_cushion(
            RunFolder(run.dir).net("final"), spec["block"], x, spec["probes"], prepare=train.normalise
        )
        identity = {"net": run.net, "depth": run.depth, "seed": run.seed}
        samples.append(pd.DataFrame({**identity, "mu": result["mu"].numpy(), "se": result["se"].numpy()}))
        per_run.append(
            {
                **identity,
                "status": run.status,
                "images": len(x),
                "probes": spec["probes"],
                **{k: result[k] for k in ("mean", "mean_se", "sd", "sd_se")},
            }
        )
    quantities = ["mean", "mean_se", "sd", "sd_se"]
    per_run = pd.DataFrame(per_run, columns=["net", "depth", "seed", "status", "images", "probes", *quantities])
    return Made(
        read=runs,
        summary=summarise(per_run, quantities),
        quantities=quantities,
        columns=["plain", "residual"],
        files={"samples": style.stacked(samples, ["net", "depth", "seed", "mu", "se"])},
    )


def yt_fig3(done: list[Path], spec: dict, images: TrainingSets) -> Made:
    """YT Fig 3: the per-sample layer cushion at one layer of the trained Table 1 nets, per depth."""
    runs = collect(done)
    runs = runs[runs.depth.isin(spec["depths"]) & first_seeds(runs, spec["seeds"])]
    ok, diverged = split_diverged(runs)
    cushions = []
    for run in ok.itertuples():
        train = images(run.train_subset)  # the images this run trained on
        mu = layer_cushion(
            RunFolder(run.dir).net("final"), spec["layer"], train.train_x[: spec["images"]], prepare=train.normalise
        )
        cushions.append(pd.DataFrame({"net": run.net, "depth": run.depth, "seed": run.seed, "mu": mu.numpy()}))
    cushions = style.stacked(cushions, ["net", "depth", "seed", "mu"])
    figure = yt.fig3(cushions, ok.groupby(["net", "depth"]).E.mean().to_dict(), spec["layer"], diverged=diverged)
    return Made(read=runs, figure=figure, files={"samples": cushions})


def yt_fig7(done: list[Path], spec: dict, images: None = None) -> Made:
    """YT Fig 7: the histograms of p's and t's weights, before and after training, one seed."""
    runs = collect(done)
    runs = runs[(runs.depth == spec["depth"]) & nth_seed(runs, spec["seed"])]
    vectors, diverged = {}, {}
    for name, net, snapshot in weights.VECTORS:
        (run,) = runs[runs.net == net].itertuples()
        if run.status == "diverged":
            diverged[name] = run.run_id
        else:
            vectors[name] = weights.parameter_vector(weights.load_plain_view(run.dir, snapshot))
    return Made(read=runs, figure=yt.fig7(vectors, spec["depth"], spec["clip"], diverged=diverged))


def yt_fig10(done: list[Path], spec: dict, images: None = None) -> Made:
    """YT Fig 10: ∂L/∂a⁽ᴸ⁾ of every training sample in the first epochs, as the runs captured it."""
    runs = collect(done)
    runs = runs[runs.depth == spec["depth"]]
    ok, diverged = split_diverged(runs)
    captured = [c for d in ok.dir for c in RunFolder(d).final_grads()]
    grads = torch.cat([c["grad"] for c in captured]) if captured else None
    steps = sum(math.ceil(len(c["grad"]) / c["batch_size"]) for c in captured) // max(len(ok), 1)  # per run
    return Made(read=runs, figure=yt.fig10(grads, spec["depth"], steps, diverged=len(diverged)))


def yt_fig12(done: list[Path], spec: dict, images: TrainingSets) -> Made:
    """YT Fig 12: σ⁽ˡ⁾ per layer, at the two stages, on the minibatches the runs drew there; one panel per arch."""
    runs = collect(done)
    read, rows = [], []
    for arch, panel in spec["panels"].items():
        read.append(runs[(runs.arch == arch) & (runs.depth == panel["depth"]) & first_seeds(runs, spec["seeds"])])
        for run in split_diverged(read[-1])[0].itertuples():
            for row in run_flow_fractions(Path(run.dir), images):
                rows.append({"arch": arch, "net": run.net, "depth": run.depth, "seed": run.seed, **row})
    read = pd.concat(read)
    sigmas = pd.DataFrame(rows)
    return Made(read=read, figure=yt.fig12(sigmas, diverged=split_diverged(read)[1]), files={"samples": sigmas})


def lw_appc(done: list[Path], spec: dict, images: None = None) -> Made:
    """LW App. C Figs 2, 3: each conv layer's norm with its BN scale absorbed, and the BN scales', per epoch."""
    runs = collect(done)
    runs = runs[(runs.depth == spec["depth"]) & first_seeds(runs, spec["seeds"])]
    ok, diverged = split_diverged(runs)
    rows, milestones = [], {}
    for run in ok.itertuples():
        _, cfg = RunFolder(run.dir).run_config()
        milestones[run.dataset] = cfg.milestones
        for row in run_layer_norms(Path(run.dir), sorted(cfg.snapshot_epochs_resolved())):
            rows.append({"dataset": run.dataset, "depth": run.depth, "seed": run.seed, **row})
    norms = pd.DataFrame(rows)
    figure = draw_lw_appc(norms, spec["stages"], milestones, diverged=diverged)
    return Made(read=runs, figure=figure, files={"samples": norms})
