# Training grids: one job per seed group → results/runs/<experiment>/<run-id>/ for each of its runs.

# An experiment's groups; one that an earlier experiment trains already is that experiment's (trained once).
JOBS = grid.training_jobs(C)
GROUPS = {(g.experiment, g.group_id): g for groups in JOBS.values() for g in groups}
# The completion records of the training jobs the tables, figures and measurements read (not the scale study's).
TARGET_DONE = [str(GroupFolder(folder).done_path) for folder in grid.target_groups(C)]
# One GPU for a job that trains on one (and the threads and memory its compile takes), none for a CPU job.
TRAIN = configuration.train_resources(C, torch.cuda.device_count() if torch.cuda.is_available() else 0)


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
    threads: TRAIN["threads"]
    resources:
        **{f"slurm_{k}": v for k in ("partition", "account") if (v := C["resources"]["train"][k])},
        gpu=TRAIN["gpu"],
        mem_mb=TRAIN["mem_mb"],
        runtime=C["resources"]["train"]["runtime"],
    params:
        job=training_job,
    script:
        "../scripts/train.py"
