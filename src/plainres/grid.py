"""From the effective config to training jobs: each experiment expanded into its runs (and their train configs),
the seeds of every configuration cut into seed groups (one group = one training job), and where each dataset's
data comes from. The config itself is resolved and checked by configuration.py.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from . import targets
from .data import cache_path
from .runfolder import group_folder, run_folder
from .runs import Run, TrainConfig


def deep_merge(base: dict, patch: dict) -> dict:
    """`base` updated by `patch`, recursively for dicts; lists and scalars are replaced."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class ConfigError(ValueError):
    """A config value that the schema cannot catch; the message names the key."""


def experiment_dataset(config: dict, name: str) -> str:
    """The dataset an experiment trains on: its own `dataset`, else the config's."""
    return config["experiments"][name].get("dataset", config["dataset"])


def dataset_source(config: dict, dataset: str) -> str | None:
    """Where `dataset` comes from: `data_source` for the config's dataset, else its `data_sources` entry,
    else an official or synthetic `data_source` (which serve every dataset); None when nothing holds it."""
    if dataset == config["dataset"]:
        return config["data_source"]
    if dataset in config["data_sources"]:
        return config["data_sources"][dataset]
    return config["data_source"] if config["data_source"] in ("official", "synthetic") else None


def data_spec(config: dict, dataset: str) -> dict | None:
    """What makes `dataset`'s data in this config: its source (a local path resolved), the checksum expected, the
    official archive, the synthetic sizes; None where no source holds it. Its digest names the cache
    (data.cache_key)."""
    source = dataset_source(config, dataset)
    if source is None:
        return None
    if source == "synthetic":
        return {"dataset": dataset, "source": source, "synthetic": config["data"]["synthetic"]}
    spec = {"dataset": dataset, "source": source, "official": config["data"]["official"][dataset]}
    if source != "official":
        spec["source"] = str(Path(source).expanduser().resolve())
        spec["sha256"] = config["data"]["sha256"] if dataset == config["dataset"] else None
    return spec


def data_file(config: dict, dataset: str) -> str:
    """The cached tensor file of `dataset` from this config's source of it."""
    return cache_path(dataset, data_spec(config, dataset))


def available_experiments(config: dict, names: list[str]) -> list[str]:
    """Those of `names` whose dataset has a source in this config."""
    return [n for n in names if dataset_source(config, experiment_dataset(config, n)) is not None]


def train_config(base: dict, *patches: dict, key: str) -> TrainConfig:
    merged = base
    for patch in patches:
        merged = deep_merge(merged, patch or {})
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ConfigError(f"{key}: unknown train key {unknown[0]!r}")
    try:
        return TrainConfig.from_dict(merged)
    except ValueError as e:
        raise ConfigError(f"{key}: {str(e).removeprefix('train config: ')}") from e


def target_experiments(config: dict, target: targets.Target) -> list[str]:
    """The experiments a target reads in this config: a table's, or those its settings name (one per dataset, as
    LW App. C's: those whose dataset has a source)."""
    spec = target.spec(config)
    names = target.experiments(spec)
    return available_experiments(config, names) if target.settings and "experiments" in spec else names


def _cell_patch(exp: dict, net: str, init: str, depth: int) -> dict:
    patch = {}
    for cell in exp.get("cells", []):
        if cell.get("net", net) == net and cell.get("init", init) == init and cell.get("depth", depth) == depth:
            patch = deep_merge(patch, cell.get("train", {}))
    return patch


def experiment_runs(config: dict, name: str) -> list[tuple[Run, TrainConfig]]:
    """Every (run, train config) of one experiment, in a stable order; its seeds are seed_offset ..
    seed_offset + seeds − 1."""
    exp, first_seed = config["experiments"][name], config["seed_offset"]
    out = []
    for net in exp["nets"]:
        for depth in exp["depths"]:
            cfg = train_config(
                config["train"],
                exp.get("train", {}),
                net.get("train", {}),
                _cell_patch(exp, net["net"], net["init"], depth),
                key=f"experiments.{name} ({net['net']}, depth {depth})",
            )
            for seed in range(first_seed, first_seed + exp["seeds"]):
                out.append((Run(exp["arch"], net["net"], depth, net["init"], seed), cfg))
    return out


@dataclass(frozen=True)
class Group:
    """One training job: runs of one configuration that differ only in seed."""

    experiment: str
    runs: tuple[Run, ...]
    train: TrainConfig

    @property
    def group_id(self) -> str:
        first, last = self.runs[0], self.runs[-1]
        return first.run_id if len(self.runs) == 1 else f"{first.run_id}-{last.seed}"

    @property
    def folder(self) -> str:
        return group_folder(self.experiment, self.group_id)

    def run_dirs(self) -> list[str]:
        return [run_folder(self.experiment, r.run_id) for r in self.runs]

    def job(self) -> dict:
        """What the job trains and where it writes: runs, resolved train config, run folders, group folder (the
        training job's parameter, less the device; what a results bundle's groups are compared by)."""
        return {
            "runs": [asdict(r) for r in self.runs],
            "train": self.train.to_dict(),
            "out_dirs": self.run_dirs(),
            "group": self.folder,
        }


def experiment_groups(config: dict, name: str) -> list[Group]:
    """The experiment's runs cut into seed groups of at most `group_size`."""
    size = config["group_size"]
    by_cell: dict[tuple, list] = {}
    for run, cfg in experiment_runs(config, name):
        by_cell.setdefault((run.net, run.depth, run.init, cfg), []).append(run)
    groups = []
    for (_, _, _, cfg), runs in by_cell.items():
        for i in range(0, len(runs), size):
            groups.append(Group(name, tuple(runs[i : i + size]), cfg))
    return groups


def training_jobs(config: dict) -> dict[str, list[Group]]:
    """Every experiment's seed groups, where a group that an earlier experiment trains already (the same runs,
    train config and dataset: Fig 9's KWI nets are Table 1's plain nets) is that experiment's group, trained
    once and read by both."""
    trained: dict[tuple, Group] = {}
    return {
        name: [
            trained.setdefault((g.runs, g.train, experiment_dataset(config, name)), g)
            for g in experiment_groups(config, name)
        ]
        for name in config["experiments"]
    }


def target_groups(config: dict) -> dict[str, Group]:
    """The training jobs the tables, figures and measurements read (not the scale study's), by group folder."""
    jobs = training_jobs(config)
    experiments = {
        e for t in targets.TARGETS.values() if t.source != "simulation" for e in target_experiments(config, t)
    }
    return {g.folder: g for e in sorted(experiments) for g in jobs[e]}
