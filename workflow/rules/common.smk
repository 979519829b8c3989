# The workflow's helper functions, kept apart from the rules (as Snakemake's lint asks). Included first: they
# read C and what the rules files define (DATA, JOBS, GROUPS) only when called.
import json

# ---- data (data.smk)


def data_file(experiment):
    return grid.data_file(C, grid.experiment_dataset(C, experiment))


def data_spec(wildcards):
    """What makes the data of the cache asked for; refused where no source of this config makes that cache."""
    spec = grid.data_spec(C, wildcards.dataset)
    if spec is None or grid.data_file(C, wildcards.dataset) != f"results/data/{wildcards.dataset}/{wildcards.key}.pt":
        raise ValueError(f"results/data/{wildcards.dataset}/{wildcards.key}.pt: no data source of this config makes it")
    return spec


# ---- training (train.smk)


def groups_done(experiment):
    """The completion records of every training job `experiment` reads."""
    return [str(GroupFolder(g.folder).done_path) for g in JOBS[experiment]]


def training_job(wildcards):
    """The job as JSON: runs, resolved train config, folders; a change re-runs this job only."""
    return json.dumps(
        {**GROUPS[wildcards.experiment, wildcards.group].job(), "device": C["device"]}, sort_keys=True, default=list
    )


# ---- the tables and figures (targets.smk; each declared in the target registry, plainres.targets)


def target_input(name):
    """The completion records of the training jobs its experiments need, and the training images if it reads them."""
    target = TARGETS[name]
    if target.source == "simulation":
        return {}
    done = [done for experiment in grid.target_experiments(C, target) for done in groups_done(experiment)]
    return {"done": done, **({"data": DATA} if target.data else {})}


def target_output(name):
    """Its files, the table's Markdown or the figure's PNG marked for the report."""
    target = TARGETS[name]
    return {
        key: report(path, caption="../report/caption.rst", category=target.category()) if key in ("md", "png") else path
        for key, path in target.outputs().items()
    }


def target_config(name):
    """The part of the config a target depends on (and whose hash it records): a change elsewhere does not re-run
    it."""
    target = TARGETS[name]
    if target.source == "simulation":
        return {"scale": C["scale"], "spec": target.spec(C)}
    keys = ("scale", "dataset", "data_source", "train")
    experiments = grid.target_experiments(C, target)
    datasets = {grid.experiment_dataset(C, e) for e in experiments} - {C["dataset"]}
    return {
        **{k: C[k] for k in keys},
        **({"data_sources": {d: grid.dataset_source(C, d) for d in sorted(datasets)}} if datasets else {}),
        "experiments": {e: C["experiments"][e] for e in experiments},
        **({} if target.table else {"spec": target.spec(C)}),
    }
