"""The scale study: how much training each of the papers' training claims needs before it shows.

Each setting of config.yaml's `scale_study` trains the nets of some experiments (Table 1's plain/residual
pair, Fig 9's t₀ = T(r₀) nets, Table 5's T′ nets, the fully-fledged pair, LW App. C's ResNet) with their
recipe at the setting's depths, images and epochs, `seeds` seeds, evaluating every epoch. The claims are
then weighed as the scorecard weighs them, at every evaluated epoch as if training had stopped there: the
effect and its standard error over seeds against the SGD steps taken. The measured claims (Fig 3, Fig 12,
the interlayer cushion, LW App. C) are weighed at every snapshot epoch (measures/over_training.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from . import scorecard


def per_setting(read, done: dict[str, list[str]], experiments: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """`read` (collect.collect, figures.curves) of every study experiment's done files, with columns `setting` and
    `experiment` (the experiment of `reads` it stands for); experiments: study experiment → (setting, read)."""
    return pd.concat(
        [
            read([Path(f) for f in done[name]]).assign(setting=setting, experiment=exp)
            for name, (setting, exp) in experiments.items()
        ],
        ignore_index=True,
    )


def at_epoch(curves: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """Every run as if training had stopped after `epoch`: its row there, as collect.collect gives a run."""
    rows = curves[curves.epoch == epoch]
    return rows.assign(epochs=epoch)


# The study's claims: (claim key, the experiments of `reads` it needs, how it is weighed at one epoch).
def claim_specs(config: dict, depths: list[int]) -> dict:
    """The figures' settings the study's claims read, for one setting's depths: Fig 9 compares its smallest and
    largest depth; Fig 8(a)'s level is the study's own (a short run reaches no paper-scale loss)."""
    return {
        "yt_fig9": {**config["figures"]["yt_fig9"], "left_depths": [min(depths), max(depths)]},
        "yt_fig2": {"depth": 20 if 20 in depths else min(depths), "reach_loss": config["scale_study"]["reach_loss"]},
    }


def _by_depth(rows: list[scorecard.Row]) -> list[tuple[str, scorecard.Row]]:
    """(case, row): the depth a row names in its claim ("… at depth 32 …"), else no case."""
    out = []
    for row in rows:
        depth = re.search(r"at depth (\d+)", row.claim)
        out.append((f"depth {depth.group(1)}" if depth else "", row))
    return out


def _table1(curves, epoch, spec):
    return _by_depth(scorecard.claims_table1(at_epoch(curves[curves.experiment == "table1"], epoch)))


def _table5(curves, epoch, spec):
    runs = at_epoch(
        curves[(curves.experiment == "table5") | ((curves.experiment == "table1") & (curves.net == "residual"))], epoch
    )
    return _by_depth([r for r in scorecard.claims_table5(runs) if r.key == "yt_table5.behind_residual"])


def _table5_chance(curves, epoch, spec):
    """T′ better than chance, weighed at each depth apart (the scorecard's row takes every depth at once)."""
    runs = at_epoch(curves[curves.experiment == "table5"], epoch)
    return [
        (f"depth {d}", r)
        for d in sorted(runs.depth.unique())
        for r in scorecard.claims_table5(runs[runs.depth == d])
        if r.key == "yt_table5.better_than_chance"
    ]


def _fig9(curves, epoch, spec):
    upto = curves[(curves.experiment == "fig9") & (curves.epoch <= epoch)]
    return _by_depth(scorecard.claims_fig9(upto, spec["yt_fig9"]))


def _fig2(curves, epoch, spec):
    upto = curves[(curves.experiment == "table1") & (curves.epoch <= epoch)]
    if spec["yt_fig2"]["depth"] not in set(upto.depth):
        return []
    return _by_depth([r for r in scorecard.claims_fig2(upto, spec["yt_fig2"]) if r.key == "yt_fig2.reach"])


WEIGHERS = {"table1": _table1, "table5": _table5, "table5_chance": _table5_chance, "fig9": _fig9, "fig2": _fig2}
NEEDS = {
    "table1": {"table1"},
    "table5": {"table1", "table5"},
    "table5_chance": {"table5"},
    "fig9": {"fig9"},
    "fig2": {"table1"},
}


def effects(curves: pd.DataFrame, config: dict) -> pd.DataFrame:
    """Every claim's effect, se, n and verdict at every evaluated epoch ≥ 1 of every setting. curves: the runs'
    curves (figures.curves) with columns `setting` and `experiment` (the experiment of `reads` they stand for)."""
    rows = []
    for setting, at in curves.groupby("setting", sort=False):
        present = set(at.experiment)
        depths = {s["name"]: s["depths"] for s in config["scale_study"]["settings"]}[setting]
        specs = claim_specs(config, depths)
        for epoch in sorted(e for e in at.epoch.unique() if e >= 1):
            steps = int(at[at.epoch == epoch].iteration.max())
            for name, weigh in WEIGHERS.items():
                if not NEEDS[name] <= present:
                    continue
                for case, row in weigh(at, epoch, specs):
                    rows.append(
                        {
                            "setting": setting,
                            "epoch": epoch,
                            "steps": steps,
                            "key": row.key,
                            "claim": row.claim,
                            "case": case,
                            "effect": row.effect.value,
                            "se": row.effect.se,
                            "n": row.effect.n,
                            "verdict": row.verdict,
                        }
                    )
    return pd.DataFrame(rows)


def _measured_rows(at: pd.DataFrame, epoch: int) -> list[tuple[str, scorecard.Row]]:
    """(case, claim row) of every measured claim at one snapshot epoch of one setting (at: its measurements)."""
    out = []
    for depth, by_depth in at.groupby("depth"):
        case = f"depth {depth}"

        def values(measure, name, by_depth=by_depth):
            return by_depth[by_depth.measure == measure].rename(columns={"value": name})

        for measure, claims in (("yt_fig3", scorecard.claims_fig3), ("yt_cushion_full", scorecard.claims_cushion_full)):
            mu = values(measure, "mu")
            mu = mu[mu.epoch == epoch]
            out += [(case, row) for row in claims(mu)] if len(mu) else []
        sigma = values("yt_fig12", "sigma")
        sigma = sigma[(sigma.stage == "first") | (sigma.epoch == epoch)]
        if (sigma.stage == "last").any():
            keep = {"yt_fig12.simplified_above", "yt_fig12.full_deep_above", "yt_fig12.falls"}
            out += [(case, row) for row in scorecard.claims_fig12(sigma) if row.key in keep]
        norms = values("lw_appc", "absorbed_norm")
        norms = norms[norms.epoch <= epoch]
        if norms.epoch.nunique() > 1:
            out += [(case, row) for row in scorecard.claims_lw_appc(norms)]
    return out


def measured_effects(measured: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Every measured claim's effect, se, n and verdict at every snapshot epoch ≥ 1 of every setting, as `effects`
    gives them (measured: measures.over_training.measure; curves: the runs' curves, for the SGD steps)."""
    rows = []
    for setting, at in measured.groupby("setting", sort=False):
        steps = curves[curves.setting == setting].groupby("epoch").iteration.max()
        for epoch in sorted(e for e in at.epoch.unique() if e >= 1):
            for case, row in _measured_rows(at, epoch):
                rows.append(
                    {
                        "setting": setting,
                        "epoch": epoch,
                        "steps": int(steps[epoch]),
                        "key": row.key,
                        "claim": row.claim,
                        "case": case,
                        "effect": row.effect.value,
                        "se": row.effect.se,
                        "n": row.effect.n,
                        "verdict": row.verdict,
                    }
                )
    return pd.DataFrame(
        rows, columns=["setting", "epoch", "steps", "key", "claim", "case", "effect", "se", "n", "verdict"]
    )


def first_shown(table: pd.DataFrame) -> pd.DataFrame:
    """Per setting, claim and case: the fewest SGD steps after which the claim holds at every later evaluated
    epoch (NaN where it does not hold at the end)."""
    out = []
    for (setting, claim, case), g in table.groupby(["setting", "claim", "case"], sort=False):
        g = g.sort_values("steps")
        holding = (g.verdict == "holds").to_numpy()
        since = None
        for i in range(len(g) - 1, -1, -1):
            if not holding[i]:
                break
            since = int(g.steps.iloc[i])
        out.append(
            {
                "setting": setting,
                "key": g.key.iloc[0],
                "claim": claim,
                "case": case,
                "steps_until_it_holds": since,
                "verdict_at_end": g.verdict.iloc[-1],
                "effect_at_end": g.effect.iloc[-1],
                "se_at_end": g.se.iloc[-1],
            }
        )
    return pd.DataFrame(out)
