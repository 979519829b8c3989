# Dataset → results/data/<dataset>.pt (uint8 tensors) + <dataset>.json (provenance).
# The config's `dataset` comes from `data_source`; another one, which an experiment may name (LW App. C on
# CIFAR-100), from `data_sources` or an official/synthetic `data_source` (grid.dataset_source).
DATA = f"results/data/{C['dataset']}.pt"


rule prepare_data:
    output:
        pt="results/data/{dataset}.pt",
        meta="results/data/{dataset}.json",
    log:
        "results/logs/prepare_data/{dataset}.log",
    wildcard_constraints:
        dataset="cifar10|cifar100",
    localrule: True
    params:
        source=lambda wc: grid.dataset_source(C, wc.dataset),
        official=lambda wc: C["data"]["official"][wc.dataset],
        sha256=lambda wc: C["data"]["sha256"] if wc.dataset == C["dataset"] else None,
        synthetic=C["data"]["synthetic"],
        timeout=C["data"]["download_timeout_s"],
        download_dir="results/data/download",
    script:
        "../scripts/prepare_data.py"


rule data:
    """`snakemake data`: the config's dataset alone."""
    input:
        DATA,
    localrule: True
