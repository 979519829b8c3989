"""Interlayer cushion stage: μ_{i,j}(xⁱ) of one block of the trained fully-fledged nets over their
training images (YT §4), with the standard errors its random projections leave (diverged runs left out and
counted)."""

from pathlib import Path

import pandas as pd
import torch

from plainres import tables
from plainres.data import load_cached
from plainres.files import begin_stage
from plainres.measures.cushion import interlayer_cushion
from plainres.minibatches import TrainingSets
from plainres.runfolder import RunFolder

begin_stage(snakemake.log[0], snakemake.output)

p, out = snakemake.params, snakemake.output
spec = p.spec
torch.set_num_threads(snakemake.threads)
runs = tables.collect([Path(f) for f in snakemake.input.done])
runs = runs[(runs.depth == spec["depth"]) & (runs.seed < spec["seeds"])]
sets = TrainingSets(*load_cached(Path(snakemake.input.data)))
ok, diverged = tables.split_diverged(runs)
samples = []
per_run = [{"net": r.net, "depth": r.depth, "seed": r.seed, "status": r.status} for r in diverged.itertuples()]
for run in ok.itertuples():
    train = sets(run.train_subset)  # the images this run trained on
    images = train.train_x[: spec["images"]]
    result = interlayer_cushion(
        RunFolder(run.dir).net("final"), spec["block"], images, spec["probes"], prepare=train.normalise
    )
    samples.append(
        pd.DataFrame(
            {
                "net": run.net,
                "depth": run.depth,
                "seed": run.seed,
                "mu": result["mu"].numpy(),
                "se": result["se"].numpy(),
            }
        )
    )
    per_run.append(
        {
            "net": run.net,
            "depth": run.depth,
            "seed": run.seed,
            "status": run.status,
            "images": len(images),
            "probes": spec["probes"],
            **{k: result[k] for k in ("mean", "mean_se", "sd", "sd_se")},
        }
    )
prov, caption = tables.provenance(runs, p.config), tables.diverged_caption(p.caption, runs)
samples = (
    pd.concat(samples, ignore_index=True) if samples else pd.DataFrame(columns=["net", "depth", "seed", "mu", "se"])
)
tables.write_tidy_csv(Path(out.samples), samples, tables.notes_of(caption, prov))
tables.write_tidy_csv(Path(out.runs), runs, tables.notes_of(caption, prov))
quantities = ["mean", "mean_se", "sd", "sd_se"]
per_run = pd.DataFrame(per_run, columns=["net", "depth", "seed", "status", "images", "probes", *quantities])
summary = tables.with_paper(tables.summarise(per_run, quantities), "yt_cushion_full")
tables.write(
    Path(out.csv).with_suffix(""),
    summary,
    tables.wide_by_quantity(summary, ["plain", "residual"], quantities),
    caption,
    prov,
)
