# Training grids: one job per seed group → results/runs/<experiment>/<run-id>/ for each of its runs.
import json

# An experiment's groups; one that an earlier experiment trains already is that experiment's (trained once).
JOBS = grid.training_jobs(C)
GROUPS = {(g.experiment, g.group_id): g for groups in JOBS.values() for g in groups}


def groups_done(experiment):
    """The completion records of every training job `experiment` reads."""
    return [f"{g.folder}/done.json" for g in JOBS[experiment]]


def training_job(wildcards):
    """The job as JSON: runs, resolved train config, folders; a change re-runs this job only."""
    g = GROUPS[wildcards.experiment, wildcards.group]
    return json.dumps(
        {
            "runs": [vars(r) for r in g.runs],
            "train": g.train.to_dict(),
            "out_dirs": g.run_dirs(),
            "checkpoint": f"{g.folder}/checkpoint.pt",
            "device": C["device"],
        },
        sort_keys=True,
        default=list,
    )


rule train:
    input:
        data=lambda wc: data_file(wc.experiment),
    output:
        done=grid.group_folder("{experiment}", "{group}") + "/done.json",
    benchmark:
        "results/benchmarks/train/{experiment}/{group}.tsv"
    params:
        job=training_job,
    wildcard_constraints:
        experiment="[^/]+",
        group="[^/]+",
    threads: C["resources"]["train"]["threads"]
    resources:
        gpu=C["resources"]["train"]["gpu"],
        mem_mb=C["resources"]["train"]["mem_mb"],
        runtime=C["resources"]["train"]["runtime"],
        **{f"slurm_{k}": v for k in ("partition", "account") if (v := C["resources"]["train"][k])},
    script:
        "../scripts/train.py"
