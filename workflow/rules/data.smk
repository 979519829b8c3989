# Dataset → results/data/<dataset>/<key>.pt (uint8 tensors) + <key>.json (provenance, sealed): one cache per
# source, named by what makes the data (grid.data_spec, data.cache_key), so that a source that fails replaces no
# other source's cache, and going back to a source re-runs nothing.
# The config's `dataset` comes from `data_source`; another one, which an experiment may name (LW App. C on
# CIFAR-100), from `data_sources` or an official/synthetic `data_source` (grid.dataset_source).
DATA = grid.data_file(C, C["dataset"])


rule prepare_data:
    output:
        pt="results/data/{dataset}/{key}.pt",
        meta="results/data/{dataset}/{key}.json",
    log:
        "results/logs/prepare_data/{dataset}/{key}.log",
    wildcard_constraints:
        dataset="cifar10|cifar100",
    localrule: True
    resources:
        # a resource, not a parameter: how long to wait for the official host changes no data, so a new value
        # rebuilds no cache
        download_timeout_s=C["data"]["download_timeout_s"],
    params:
        spec=data_spec,
        download_dir="results/data/download",
    script:
        "../scripts/prepare_data.py"


rule data:
    """`snakemake data`: the config's dataset alone."""
    input:
        DATA,
    localrule: True
