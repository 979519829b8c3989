"""Data stage: read the configured CIFAR source and write the cached tensor file + provenance."""
import sys
from pathlib import Path

from plainres.data import DataError, acquire, save_cached

p, dataset = snakemake.params, snakemake.wildcards.dataset  # noqa: F821 (injected by Snakemake)
if p.source is None:
    sys.exit(f"error: no source holds {dataset}: set data_sources: {{{dataset}: <path>}} or data_source: official")
try:
    data, info = acquire(dataset, p.source, p.official, Path(p.download_dir),
                         synthetic_cfg=p.synthetic, sha256=p.sha256, timeout=p.timeout)
    meta = save_cached(data, info, dataset, Path(snakemake.output.pt), Path(snakemake.output.meta))  # noqa: F821
except DataError as e:
    sys.exit(f"error: {e}")
print(f"{dataset}: {meta['counts']['train']} train / {meta['counts']['test']} test images "
      f"from {info['kind']} source {info.get('location') or ''}", file=sys.stderr)
