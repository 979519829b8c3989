# Helpers of the rules that read finished runs (tables, figures, measurements).


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
