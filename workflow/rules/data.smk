# Dataset → results/data/<dataset>.pt (uint8 tensors) + <dataset>.json (provenance).


rule data:
    output:
        pt=f"results/data/{config['dataset']}.pt",
        meta=f"results/data/{config['dataset']}.json",
    params:
        dataset=config["dataset"],
        source=config["data_source"],
        official=config["data"]["official"][config["dataset"]],
        sha256=config["data"]["sha256"],
        synthetic=config["data"]["synthetic"],
        timeout=config["data"]["download_timeout_s"],
        download_dir="results/data/download",
    localrule: True
    script:
        "../scripts/prepare_data.py"
