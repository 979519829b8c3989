# The workflow's helper functions, kept apart from the rules (as Snakemake's lint asks). Included first: they
# read C and what the rules files define (JOBS, GROUPS, TABLES) only when called.
import json

# ---- data (data.smk)


def data_file(experiment):
    return f"results/data/{grid.experiment_dataset(C, experiment)}.pt"


# ---- training (train.smk)


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


# ---- the rules that read finished runs (tables, figures, measurements)


def target_spec(target):
    """A figure's or measurement's own settings (config.yaml `figures:` / `measures:`)."""
    return C["figures"].get(target) or C["measures"].get(target)


def target_experiments(target):
    if target in TABLES:
        return TABLES[target]["experiments"]
    spec = target_spec(target)
    if "panels" in spec:  # one experiment per panel (Fig 12)
        return list(dict.fromkeys(panel["experiment"] for panel in spec["panels"].values()))
    if "experiments" in spec:  # one per dataset (LW App. C): those whose data has a source
        return grid.available_experiments(C, spec["experiments"])
    return [spec["experiment"]]


def target_input(target):
    return [done for experiment in target_experiments(target) for done in groups_done(experiment)]


def target_config(target):
    """The part of the config a table or figure depends on (and whose hash it records): a change
    elsewhere does not re-run it."""
    keys = ("scale", "dataset", "data_source", "train")
    datasets = {grid.experiment_dataset(C, e) for e in target_experiments(target)} - {C["dataset"]}
    return {
        **{k: C[k] for k in keys},
        **({"data_sources": {d: grid.dataset_source(C, d) for d in sorted(datasets)}} if datasets else {}),
        "experiments": {e: C["experiments"][e] for e in target_experiments(target)},
        **({} if target in TABLES else {"spec": target_spec(target)}),
    }
