"""From config.yaml to the effective config, checked before any job runs: resolve the scale (config.yaml < the
chosen scale's patch `scales.<scale>` < command-line overrides, and the scale study's experiments), validate it
against the JSON schema, and check what the schema cannot see (depths, inits, train configs, what each target
reads, the data sources). Every error is a ConfigError naming the key.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from . import targets
from .data import COUNTS
from .grid import (
    ConfigError,
    data_file,
    dataset_source,
    deep_merge,
    experiment_dataset,
    experiment_runs,
    target_experiments,
    train_config,
)
from .models import ARCHS
from .runs import INITS


def typed(value, nested: bool = False):
    """Snakemake leaves nested --config values as strings (YAML BaseLoader): type their scalars."""
    if isinstance(value, dict):
        return {k: typed(v, True) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v, True) for v in value]
    if nested and isinstance(value, str):
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
        return parsed if parsed is None or isinstance(parsed, (bool, int, float)) else value
    return value


def load_yaml(path) -> dict:
    """A YAML file, or ConfigError naming the file, the line and the column of what breaks it."""
    try:
        with open(path) as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}{where}: {problem}") from None


def check_overrides(defaults: dict, overrides: dict) -> None:
    """Command-line overrides name only experiments config.yaml (`defaults`) defines: a misspelt one would be a
    new, incomplete experiment."""
    named = overrides.get("experiments")
    unknown = sorted(set(named) - set(defaults["experiments"])) if isinstance(named, dict) else []
    if unknown:
        raise ConfigError(
            f"experiments.{unknown[0]}: no such experiment; the experiments are {', '.join(defaults['experiments'])}"
        )


def resolve(config: dict, overrides: dict | None = None, checked: bool = True) -> dict:
    """The effective config of `config['scale']`: base, then the scale's patch, then overrides."""
    overrides = typed(overrides or {})
    scale = overrides.get("scale", config["scale"])
    scales = config.get("scales", {})
    if scale not in scales:
        raise ConfigError(f"scale: {scale!r} is not one of {sorted(scales)}")
    base = {k: v for k, v in config.items() if k != "scales"}
    resolved = deep_merge(deep_merge(base, scales[scale]), {k: v for k, v in overrides.items() if k != "scales"})
    resolved["scale"] = scale
    # the scale study's experiments, trained only when its target is asked for
    resolved["experiments"] = {**resolved["experiments"], **study_experiments(resolved)}
    if checked:
        check(resolved)
    return resolved


STUDY = "study"  # the scale study's experiments are study_<setting>_<experiment>


def study_experiments(config: dict) -> dict[str, dict]:
    """The experiments the scale study trains: each experiment of the setting's `reads` (else the study's) at
    each setting's depths and train overrides, with `scale_study.seeds` seeds, evaluated every epoch."""
    study = config.get("scale_study")
    if not study:
        return {}
    out = {}
    for patch in study["settings"]:
        setting = patch["name"]
        for name in patch.get("reads", study["reads"]):
            exp = copy.deepcopy(config["experiments"][name])
            exp.update(
                depths=list(patch["depths"]),
                seeds=study["seeds"],
                train={**exp.get("train", {}), **patch["train"], "eval_every": 1},
            )
            out[f"{STUDY}_{setting}_{name}"] = exp
    return out


def is_study(experiment: str) -> bool:
    return experiment.startswith(f"{STUDY}_")


# The measurement targets whose claims the scale study follows over training (measures/over_training.py).
STUDIED = ("yt_fig3", "yt_cushion_full", "yt_fig12", "lw_appc")


def study_specs(config: dict) -> dict[str, dict]:
    """The settings of each STUDIED target in this config: what the scale study measures its nets with."""
    return {name: targets.get(name).spec(config) for name in STUDIED}


def study_measures(specs: dict[str, dict]) -> dict[str, list[str]]:
    """Each experiment → the measured claims the scale study weighs on its nets: those of the STUDIED targets
    that read it (`specs`: study_specs)."""
    out: dict[str, list[str]] = {}
    for name in STUDIED:
        for experiment in targets.get(name).experiments(specs[name]):
            if name not in out.setdefault(experiment, []):
                out[experiment].append(name)
    return out


def _check_study(config: dict) -> None:
    """The scale study's measured claims fit its settings' nets: Fig 3's layer, the interlayer cushion's block."""
    specs = study_specs(config)
    by_experiment = study_measures(specs)
    for patch in config["scale_study"]["settings"]:
        reads, depth = patch.get("reads", config["scale_study"]["reads"]), min(patch["depths"])
        key = f"scale_study.settings ({patch['name']})"
        measured = {target for name in reads for target in by_experiment.get(name, [])}
        if "yt_fig3" in measured and specs["yt_fig3"]["layer"] > depth - 1:
            raise ConfigError(
                f"{key}.depths: Fig 3 measures layer {specs['yt_fig3']['layer']} "
                f"({targets.get('yt_fig3').settings}.layer), which a depth-{depth} net does not have"
            )
        if "yt_cushion_full" in measured and specs["yt_cushion_full"]["block"] > (depth - 2) // 2:
            raise ConfigError(
                f"{key}.depths: the interlayer cushion measures block {specs['yt_cushion_full']['block']} "
                f"({targets.get('yt_cushion_full').settings}.block), which a depth-{depth} fully-fledged net does not "
                f"have"
            )


def _check_depth(arch: str, depth: int, key: str):
    if arch == "fully-fledged":
        if depth < 8 or (depth - 2) % 6:
            raise ConfigError(f"{key}: depth {depth} is not 6n+2 (n ≥ 1) for fully-fledged nets")
    elif depth < 5 or (depth - 2) % 3:
        raise ConfigError(f"{key}: depth {depth} is not 3N+2 (N ≥ 1) for {arch} nets")


def validate(config: dict, schema_path) -> None:
    """The schema's verdict as one line: the key, the value and the rule it breaks (not the schema's dump). The
    schema is the file's, with each target's settings' own (plainres.targets) in its section."""
    import jsonschema

    with open(schema_path) as f:
        schema = yaml.safe_load(f)
    for target in targets.TARGETS.values():
        if target.settings:
            section, key = target.settings.split(".")
            entries = schema["properties"][section]
            entries.setdefault("properties", {})[key] = target.schema
            entries["required"] = list(dict.fromkeys([*entries.get("required", []), key]))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(config))
    if errors:
        error = jsonschema.exceptions.best_match(errors)
        key = ".".join(map(str, error.absolute_path)) or "the config's top level"
        more = f" ({len(errors) - 1} more error(s) after fixing this)" if len(errors) > 1 else ""
        raise ConfigError(f"{key}: {error.message[:300]} [schema rule: {error.validator}]{more}")


def data_counts(config: dict, dataset: str) -> dict[str, int]:
    """The images of each split the config's source of `dataset` holds: its synthetic sizes, or the dataset's."""
    if dataset_source(config, dataset) == "synthetic":
        return {split: config["data"]["synthetic"][split] for split in ("train", "test")}
    return COUNTS[dataset]


def check_data_sources(config: dict) -> None:
    """Every local data source the pipeline will read exists, unless its cache is there already: checked when
    planning, so a dry run fails too."""
    datasets = {experiment_dataset(config, name) for name in config["experiments"]}
    for dataset in sorted(datasets):
        source = dataset_source(config, dataset)
        if source in (None, "official", "synthetic") or Path(data_file(config, dataset)).exists():
            continue
        if Path(source).expanduser().exists():
            continue
        key = "data_source" if dataset == config["dataset"] else f"data_sources.{dataset}"
        raise ConfigError(
            f"{key}: {source}: no such file or directory (give 'official', 'synthetic' or the path "
            f"of a local copy of {dataset}; relative paths start in {Path.cwd()})"
        )


def check(config: dict) -> None:
    """Semantic checks beyond the schema: depths, inits, train values, of every experiment."""
    train_config(config["train"], key="train")
    for name, exp in config["experiments"].items():
        key = f"experiments.{name}"
        if exp["arch"] not in ARCHS:
            raise ConfigError(f"{key}.arch: {exp['arch']!r} is not one of {ARCHS}")
        for i, net in enumerate(exp["nets"]):
            if net["init"] not in INITS:
                raise ConfigError(f"{key}.nets[{i}].init: {net['init']!r} is not one of {INITS}")
        for depth in exp["depths"]:
            _check_depth(exp["arch"], depth, f"{key}.depths")
        _check_sizes(config, name)  # builds, and so validates, every merged TrainConfig
    _check_readers(config)
    _check_study(config)
    _check_simulations(config["simulations"])


def _check_sizes(config: dict, name: str) -> None:
    """What a run's train config asks of its data: subsets no larger than it, snapshot iterations within the run."""
    dataset = experiment_dataset(config, name)
    counts = data_counts(config, dataset)
    data = f"the synthetic {dataset} (data.synthetic)" if dataset_source(config, dataset) == "synthetic" else dataset
    for run, cfg in experiment_runs(config, name):
        key = f"experiments.{name} ({run.net}, depth {run.depth})"
        for split in ("train", "test"):
            subset = getattr(cfg, f"{split}_subset")
            if subset is not None and subset > counts[split]:
                raise ConfigError(
                    f"{key}: train.{split}_subset = {subset} is more than the {counts[split]} {split} images of {data}"
                )
        steps = cfg.iterations(cfg.train_subset or counts["train"])
        beyond = [i for i in cfg.snapshot_iterations if i > steps]
        if beyond:
            raise ConfigError(
                f"{key}: train.snapshot_iterations {beyond}: the run takes {steps} SGD steps "
                f"({cfg.epochs} epochs of {cfg.train_subset or counts['train']} images in "
                f"minibatches of {cfg.batch_size})"
            )


def _check_simulations(sims: dict) -> None:
    """What the schema cannot see in the simulations: depths the nets can have, layers the chain has."""
    _check_depth(sims["yt_fig4"]["arch"], sims["yt_fig4"]["depth"], "simulations.yt_fig4.depth")
    for arch in sims["yt_fig5"]["archs"]:
        _check_depth(arch, sims["yt_fig5"]["depth"], "simulations.yt_fig5.depth")
    blocks = min(
        3 * ((sims["yt_fig5"]["depth"] - 2) // (6 if a == "fully-fledged" else 3)) for a in sims["yt_fig5"]["archs"]
    )
    if sims["yt_fig5"]["block"] >= blocks:
        raise ConfigError(
            f"simulations.yt_fig5.block: the nets have blocks 0..{blocks - 1}, not {sims['yt_fig5']['block']}"
        )
    fig11 = sims["yt_fig11"]
    for parameter, values in {**{k: [v] for k, v in fig11["defaults"].items()}, **fig11["sweeps"]}.items():
        for value in values:
            point = fig11["defaults"] | {parameter: value}
            if not 1 <= point["l"] < point["L"]:
                raise ConfigError(
                    f"simulations.yt_fig11.{'sweeps' if parameter in fig11['sweeps'] else 'defaults'}."
                    f"{parameter}: layer l = {point['l']} is not in 1..L−1 = 1..{point['L'] - 1}"
                )
            if parameter == "p" and not 0 <= value <= 1:
                raise ConfigError(f"simulations.yt_fig11.sweeps.p: {value} is not a probability")


def _check_readers(config: dict) -> None:
    """Each target that reads runs names experiments of this config, of the architecture it needs, at depths
    and seeds they train, and their runs record what it reads (the target registry, plainres.targets)."""
    for target in targets.TARGETS.values():
        if target.table:  # a table from runs: its experiments are the registry's
            missing = [e for e in target.table["experiments"] if e not in config["experiments"]]
            if missing:
                raise ConfigError(
                    f"{target.name} (plainres.targets) reads experiments.{missing[0]}, which is not in the config"
                )
            continue
        if target.source == "simulation":
            continue
        key, spec = target.settings, target.spec(config)
        for below, read, arch in target.reads(spec):
            _check_reads(config, f"{key}{below}", read, arch=arch)
        if not target_experiments(config, target):
            raise ConfigError(
                f"{key}.experiments: no dataset of {spec['experiments']} has a source (see data_source, data_sources)"
            )
        error = target.check(spec) if target.check else None
        if error:
            raise ConfigError(f"{key}.{error}")
        if target.requires:
            ok, wording = target.requires
            for below, name in target.requiring(spec):
                if not all(ok(cfg) for _, cfg in experiment_runs(config, name)):
                    raise ConfigError(f"{key}{below}: experiments.{name} must set train.{wording}")


def _check_reads(config: dict, key: str, spec: dict, arch: str | None = None) -> None:
    """`spec` reads an experiment of this config (of architecture `arch`, when given), at depths and a
    seed it trains."""
    exp = config["experiments"].get(spec["experiment"])
    if exp is None:
        raise ConfigError(f"{key}.experiment: no experiment {spec['experiment']!r}")
    if arch is not None and exp["arch"] != arch:
        raise ConfigError(f"{key}.experiment: experiments.{spec['experiment']} trains {exp['arch']} nets, not {arch}")
    for field_ in ("depth", "depths", "left_depths"):
        wanted = spec.get(field_)
        missing = sorted(set([wanted] if isinstance(wanted, int) else wanted or []) - set(exp["depths"]))
        if missing:
            raise ConfigError(
                f"{key}.{field_}: depth {missing[0]} is not among "
                f"experiments.{spec['experiment']}.depths {exp['depths']}"
            )
    if "layer" in spec and spec["layer"] > min(spec["depths"]) - 1:
        raise ConfigError(
            f"{key}.layer: a depth-{min(spec['depths'])} net has conv layers 1..{min(spec['depths']) - 1}, "
            f"not {spec['layer']}"
        )
    if spec.get("seed", 0) >= exp["seeds"]:
        raise ConfigError(
            f"{key}.seed: seed {spec['seed']} is not trained (experiments.{spec['experiment']}.seeds is {exp['seeds']})"
        )
    if spec.get("seeds", 1) > exp["seeds"]:
        raise ConfigError(
            f"{key}.seeds: {spec['seeds']} seeds are read, experiments.{spec['experiment']}.seeds trains {exp['seeds']}"
        )


def train_resources(config: dict, visible_gpus: int) -> dict:
    """What one training job asks for: on a GPU (device cuda…, or auto where `visible_gpus` shows one) one GPU and
    the threads and memory that compiling its step takes; on the CPU none, and its own threads and memory."""
    train = config["resources"]["train"]
    on_gpu = config["device"].startswith("cuda") or (config["device"] == "auto" and visible_gpus > 0)
    return {
        "gpu": int(on_gpu),
        "threads": train["gpu_threads" if on_gpu else "threads"],
        "mem_mb": train["gpu_mem_mb" if on_gpu else "mem_mb"],
    }
