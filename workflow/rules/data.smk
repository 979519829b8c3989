# Dataset → results/data/<dataset>.pt (uint8 tensors) + <dataset>.json (provenance).


rule data:
    output:
        pt=f"results/data/{C['dataset']}.pt",
        meta=f"results/data/{C['dataset']}.json",
    params:
        dataset=C["dataset"],
        source=C["data_source"],
        official=C["data"]["official"][C["dataset"]],
        sha256=C["data"]["sha256"],
        synthetic=C["data"]["synthetic"],
        timeout=C["data"]["download_timeout_s"],
        download_dir="results/data/download",
    localrule: True
    script:
        "../scripts/prepare_data.py"
