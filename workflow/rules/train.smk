# Training grids: one job per seed group → results/runs/<experiment>/<run-id>/ for each of its runs.

# An experiment's groups; one that an earlier experiment trains already is that experiment's (trained once).
JOBS = grid.training_jobs(C)
GROUPS = {(g.experiment, g.group_id): g for groups in JOBS.values() for g in groups}


rule train:
    input:
        data=lambda wc: data_file(wc.experiment),
    output:
        done=str(GroupFolder(grid.group_folder("{experiment}", "{group}")).done_path),
    log:
        "results/logs/train/{experiment}/{group}.log",
    benchmark:
        "results/benchmarks/train/{experiment}/{group}.tsv"
    wildcard_constraints:
        experiment="[^/]+",
        group="[^/]+",
    threads: C["resources"]["train"]["threads"]
    resources:
        **{f"slurm_{k}": v for k in ("partition", "account") if (v := C["resources"]["train"][k])},
        gpu=C["resources"]["train"]["gpu"],
        mem_mb=C["resources"]["train"]["mem_mb"],
        runtime=C["resources"]["train"]["runtime"],
    params:
        job=training_job,
    script:
        "../scripts/train.py"
