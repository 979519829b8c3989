"""Data stage: read the configured CIFAR source and write the cached tensor file + provenance."""

import os
import sys
from pathlib import Path

from plainres.data import DataError, acquire, save_cached

with open(snakemake.log[0], "w") as log:
    os.dup2(log.fileno(), 2)  # stderr (fd 2: Python's, C code's, child processes') → this job's log

p, dataset = snakemake.params, snakemake.wildcards.dataset
if p.source is None:
    sys.exit(f"error: no source holds {dataset}: set data_sources: {{{dataset}: <path>}} or data_source: official")
try:
    data, info = acquire(
        dataset,
        p.source,
        p.official,
        Path(p.download_dir),
        synthetic_cfg=p.synthetic,
        sha256=p.sha256,
        timeout=p.timeout,
    )
    meta = save_cached(data, info, dataset, Path(snakemake.output.pt), Path(snakemake.output.meta))
except DataError as e:
    sys.exit(f"error: {e}")
print(
    f"{dataset}: {meta['counts']['train']} train / {meta['counts']['test']} test images "
    f"from {info['kind']} source {info.get('location') or ''}",
    file=sys.stderr,
)
