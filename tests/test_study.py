"""The scale study: each claim weighed at every epoch of synthetic runs whose effect is known, the measured
claims at every snapshot epoch, and the steps from which a claim holds to the end."""

import numpy as np
import pandas as pd
import pytest

from plainres import study

RNG = np.random.default_rng(1)
CONFIG = {
    "scale_study": {"reach_loss": 1.5, "settings": [{"name": "s", "depths": [20]}]},
    "figures": {"yt_fig9": {"widening_steps": 100, "left_depths": [20, 20]}},
}


def table1_curves(gap_by_epoch: dict[int, float]) -> pd.DataFrame:
    """Plain and residual runs of 3 seeds at depth 20, 8 steps an epoch; residual L below plain by gap(epoch)."""
    rows = []
    for seed in range(3):
        for epoch, gap in gap_by_epoch.items():
            base = 2.3 - 0.1 * epoch + 0.01 * seed
            for net, L in (("plain", base + gap), ("residual", base + 1e-3 * seed)):
                rows.append(
                    {
                        "setting": "s",
                        "experiment": "table1",
                        "net": net,
                        "init": "kwi" if net == "plain" else "hmwi",
                        "depth": 20,
                        "seed": seed,
                        "status": "ok",
                        "run_id": f"{net}-{seed}",
                        "epoch": epoch,
                        "iteration": 8 * epoch,
                        "L": L,
                        "E": 0.5,
                        "train_subset": 1000,
                    }
                )
    return pd.DataFrame(rows)


def test_a_loss_gap_that_opens_after_two_epochs_holds_from_their_steps():
    effects = study.effects(table1_curves({0: 0.0, 1: 0.0, 2: 0.2, 3: 0.3}), CONFIG)
    L = effects[effects.key == "yt_table1.L"].set_index("epoch")
    assert list(L.steps) == [8, 16, 24] and list(L.verdict) == ["inconclusive", "holds", "holds"]
    assert (
        L.loc[3, "effect"] == pytest.approx(0.3 - 0.001, abs=2e-3) and set(L.n) == {3} and set(L.case) == {"depth 20"}
    )
    shown = study.first_shown(effects).set_index("key")
    assert (
        shown.loc["yt_table1.L", "steps_until_it_holds"] == 16 and shown.loc["yt_table1.L", "verdict_at_end"] == "holds"
    )


def test_a_claim_that_stops_holding_before_the_end_is_not_shown():
    effects = study.effects(table1_curves({0: 0.0, 1: 0.3, 2: 0.3, 3: 0.0}), CONFIG)
    shown = study.first_shown(effects).set_index("key")
    assert (
        pd.isna(shown.loc["yt_table1.L", "steps_until_it_holds"])
        and shown.loc["yt_table1.L", "verdict_at_end"] != "holds"
    )


def table5_curves(error_at_44: dict[int, float]) -> pd.DataFrame:
    """T′ runs of 3 seeds at depths 20 and 44, 8 steps an epoch: E = 0.5 at depth 20, error_at_44[epoch] at 44."""
    rows = []
    for seed in range(3):
        for epoch, e44 in error_at_44.items():
            for depth, E in ((20, 0.5), (44, e44)):
                rows.append(
                    {
                        "setting": "s",
                        "experiment": "table5",
                        "net": "dominant",
                        "init": "hmwi",
                        "depth": depth,
                        "seed": seed,
                        "status": "ok",
                        "run_id": f"dominant-{depth}-{seed}",
                        "epoch": epoch,
                        "iteration": 8 * epoch,
                        "L": 2.0,
                        "E": E + 0.01 * seed,
                        "dtype": "float32",
                        "train_subset": 1000,
                    }
                )
    return pd.DataFrame(rows)


def test_t_prime_better_than_chance_is_weighed_at_each_depth_from_the_table5_runs_alone():
    effects = study.effects(table5_curves({0: 0.95, 1: 0.95, 2: 0.7, 3: 0.6}), CONFIG)
    chance = effects[effects.key == "yt_table5.better_than_chance"].set_index(["case", "epoch"])
    assert list(chance.loc["depth 20"].verdict) == ["holds"] * 3
    assert list(chance.loc["depth 44"].verdict) == ["fails", "holds", "holds"]
    assert chance.loc[("depth 44", 3), "effect"] == pytest.approx(0.9 - 0.61)
    assert set(effects.key) == {"yt_table5.better_than_chance"}  # behind_residual needs Table 1's residual nets
    shown = study.first_shown(effects).set_index("case").steps_until_it_holds
    assert shown["depth 20"] == 8 and shown["depth 44"] == 16


def measured_frame(epochs=(1, 2, 3)) -> pd.DataFrame:
    """Synthetic measurements of 3 seeds at depth 20: Fig 3's cushion, residual above plain only from epoch 2;
    LW App. C's norms growing from epoch 0; Fig 12's σ with residual above plain at both stages, falling with
    the epoch."""
    rows = []
    ident = {"setting": "s", "arch": "simplified", "dataset": "cifar10", "depth": 20}
    for seed in range(3):
        for e in epochs:
            for net in ("plain", "residual"):
                lift = 0.2 if net == "residual" and e >= 2 else 0.0
                rows += [
                    {**ident, "measure": "yt_fig3", "net": net, "seed": seed, "epoch": e, "value": 1.0 + lift + v}
                    for v in RNG.normal(0, 0.01, 5)
                ]
        for e in (0, *epochs):
            rows += [
                {
                    **ident,
                    "measure": "lw_appc",
                    "arch": "fully-fledged",
                    "net": "residual",
                    "seed": seed,
                    "epoch": e,
                    "layer": layer,
                    "value": 5.0 + e + 0.1 * seed,
                }
                for layer in (1, 2)
            ]
        for stage, e in (("first", 0), *(("last", e) for e in epochs if e < epochs[-1])):
            for net in ("plain", "residual"):
                rows += [
                    {
                        **ident,
                        "measure": "yt_fig12",
                        "net": net,
                        "seed": seed,
                        "epoch": e,
                        "stage": stage,
                        "layer": layer,
                        "value": (0.6 if net == "residual" else 0.3) + 0.01 * seed - 0.02 * e * (1 + 0.1 * seed),
                    }
                    for layer in (1, 2, 3)
                ]
    return pd.DataFrame(rows)


def test_measured_claims_are_weighed_at_every_snapshot_epoch_with_the_steps_of_the_curves():
    curves = table1_curves({0: 0.0, 1: 0.1, 2: 0.1, 3: 0.1})
    effects = study.measured_effects(measured_frame(), curves)
    verdict = effects.set_index(["key", "epoch"]).verdict
    assert [verdict["yt_fig3.cushion", e] for e in (1, 2, 3)] == ["inconclusive", "holds", "holds"]
    assert [verdict["lw_appc.grows", e] for e in (1, 2, 3)] == ["holds"] * 3  # epoch 0 against each epoch
    assert [verdict["yt_fig12.simplified_above", e] for e in (1, 2)] == ["holds", "holds"]  # no σ after the last
    assert ("yt_fig12.simplified_above", 3) not in verdict.index
    assert [verdict["yt_fig12.falls", e] for e in (1, 2)] == ["holds", "holds"]  # σ(first) − σ(epoch e) > 0
    falls = effects[effects.key == "yt_fig12.falls"].set_index("epoch").effect
    assert falls[2] > falls[1] > 0
    assert set(effects.key) == {  # only the study's
        "yt_fig3.cushion",
        "lw_appc.grows",
        "yt_fig12.simplified_above",
        "yt_fig12.falls",
    }
    assert dict(zip(effects.epoch, effects.steps)) == {1: 8, 2: 16, 3: 24} and set(effects.case) == {"depth 20"}
    grows = effects[effects.key == "lw_appc.grows"].set_index("epoch").effect
    assert list(grows) == pytest.approx([1.0, 2.0, 3.0])
    shown = study.first_shown(effects).set_index("key").steps_until_it_holds
    assert shown["yt_fig3.cushion"] == 16 and shown["lw_appc.grows"] == 8


def test_no_measurements_give_no_rows():
    empty = measured_frame().iloc[:0]
    assert study.measured_effects(empty, table1_curves({0: 0.0, 1: 0.1})).empty
