"""Data stage: read the configured CIFAR source and write the cached tensor file + provenance, each written
under a temporary name and renamed when whole (a failure leaves no file and touches no other source's cache)."""

import sys
from pathlib import Path

from plainres.data import DataError, acquire, save_cached
from plainres.files import begin_stage

begin_stage(snakemake.log[0], snakemake.output)

spec, dataset = snakemake.params.spec, snakemake.wildcards.dataset
try:
    data, info = acquire(
        dataset,
        spec["source"],
        spec.get("official"),
        Path(snakemake.params.download_dir),
        synthetic_cfg=spec.get("synthetic"),
        sha256=spec.get("sha256"),
        timeout=snakemake.resources.download_timeout_s,
    )
    meta = save_cached(data, info, dataset, Path(snakemake.output.pt), Path(snakemake.output.meta))
except DataError as e:
    sys.exit(f"error: {e}")
print(
    f"{dataset}: {meta['counts']['train']} train / {meta['counts']['test']} test images "
    f"from {info['kind']} source {info.get('location') or ''}",
    file=sys.stderr,
)
