"""YT's claims: Tables 1–5, Figs 2/8, 3, 6, 7, 9, 10, 12, the interlayer cushion, and the simulations of
Figs 11 and 13, each with its thresholds."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..evidence import FAILS, HOLDS, INCONCLUSIVE, MARGIN, NO_DATA, Row, exact, one_sample, paired, weighed
from ..tables import fmt
from .common import all_of, by_seed, diverged_note, final_rows, finished

# ---------------------------------------------------------------- YT Tables 1–5


def claims_table1(runs: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Table 1 from its runs (net, depth, seed, status, L, E): residual below plain, paired by seed."""
    ok, depths, out = finished(runs), sorted(runs.depth.unique()), []
    for q, name, paper in (("L", "training loss", "0.0429 vs 0.0723"), ("E", "test error", "0.113 vs 0.126")):
        for d in depths:
            effect = paired(by_seed(ok, q, net="plain", depth=d), by_seed(ok, q, net="residual", depth=d))
            means = {net: by_seed(ok, q, net=net, depth=d).mean() for net in ("plain", "residual")}
            out.append(
                weighed(
                    "yt_table1",
                    f"yt_table1.{q}",
                    f"residual {name} below plain at depth {d} (Table 1, depth 20: {paper})",
                    effect,
                    f"{q}(plain) − {q}(residual); means {fmt(means['plain'])} vs "
                    f"{fmt(means['residual'])}" + diverged_note(runs, depth=d),
                )
            )
    if len(depths) >= 2:
        lo, hi = depths[0], depths[-1]
        growth = {
            net: np.log(by_seed(ok, "L", net=net, depth=hi) / by_seed(ok, "L", net=net, depth=lo))
            for net in ("plain", "residual")
        }
        ratio = {net: math.exp(g.mean()) for net, g in growth.items()}
        out.append(
            weighed(
                "yt_table1",
                "yt_table1.degradation",
                f"plain L degrades more than residual L from depth {lo} to {hi} (paper: 6.85× vs 1.73×, 20→44)",
                paired(growth["plain"], growth["residual"]),
                f"log L({hi})/L({lo}), plain − residual; geometric mean ratios plain "
                f"{fmt(ratio['plain'], 3)}×, residual {fmt(ratio['residual'], 3)}×" + diverged_note(runs),
            )
        )
    return out


def claims_table4(runs: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Table 4 from the Table 1 runs (net, depth, seed, L, reg, reg_before)."""
    ok = finished(runs)
    cases = {
        f"{net} d{d}": one_sample(
            np.log10(by_seed(ok, "L", net=net, depth=d) / by_seed(ok, "reg", net=net, depth=d)) - 1
        )
        for net in ("plain", "residual")
        for d in sorted(runs.depth.unique())
    }
    d = min(runs.depth.unique())
    before = {net: by_seed(ok, "reg_before", net=net, depth=d) for net in ("plain", "residual")}
    init = paired(np.log10(before["plain"]), np.log10(before["residual"]) + 1)
    return [
        all_of(
            "yt_table4",
            "yt_table4.reg_small",
            "the weight regularisation is small against L after training: L/reg > 10 (paper: ≥ 80.67)",
            cases,
            "cells (net, depth) of log₁₀(L/reg) − 1",
            diverged_note(runs),
        ),
        weighed(
            "yt_table4",
            "yt_table4.reg_init",
            "before training, plain regularisation ≫ residual's: more than 10× (paper: 268× at depth 20)",
            init,
            f"log₁₀(reg plain / reg residual) − 1 at depth {d}; ratio of means "
            f"{fmt(before['plain'].mean() / before['residual'].mean(), 3)}×" + diverged_note(runs, depth=d),
        ),
    ]


def claims_table2(runs: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Table 2, float64: the equivalent pair reaches the same L, seed by seed (an exact check)."""
    ok, gaps = finished(runs), []
    for d in sorted(runs.depth.unique()):
        p, r = by_seed(ok, "L", net="plain", depth=d), by_seed(ok, "L", net="residual", depth=d)
        gaps += [(d, s, abs(p[s] - r[s]) / r[s]) for s in p.index.intersection(r.index)]
    worst = max(gaps, key=lambda g: g[2], default=None)
    return [
        exact(
            "yt_table2",
            "yt_table2.equal",
            "equivalently initialised plain and residual nets reach the same L, each seed within 10 % (paper: 4 %)",
            None if worst is None else worst[2] < 0.1,
            (
                "no pair"
                if worst is None
                else f"largest gap {100 * worst[2]:.2g} % (depth {worst[0]}, seed {worst[1]}) over {len(gaps)} pairs"
            )
            + diverged_note(runs),
        )
    ]


def trained_alike(runs: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """The rows of `runs` trained on the same images, for as many epochs and in the same dtype as `like`'s."""
    keys = ["train_subset", "epochs", "dtype"]
    wanted = {tuple(map(str, k)) for k in like[keys].itertuples(index=False)}
    return runs[[tuple(map(str, k)) in wanted for k in runs[keys].itertuples(index=False)]]


def _table5_behind_residual(runs: pd.DataFrame, ok: pd.DataFrame, d: int) -> Row:
    """T′ far behind the residual nets trained alike (the same images, epochs and dtype) at depth d."""
    dominant = ok[(ok.net == "dominant") & (ok.depth == d)]
    residual = ok[(ok.net == "residual") & (ok.depth == d)]
    claim = f"T′ nets far behind the residual nets at depth {d}: L(T′) − L(residual) > 0 (paper: 0.94 vs 0.041)"
    key = "yt_table5.behind_residual"
    note = diverged_note(runs[runs.net.isin(["dominant", "residual"])], depth=d)
    alike = trained_alike(residual, dominant).drop_duplicates("seed")
    if dominant.empty:
        return exact("yt_table5", key, claim, None, "no T′ run left at this depth" + note)
    if residual.empty:
        return exact("yt_table5", key, claim, None, "no residual runs at this depth" + note)
    if alike.empty:
        return exact("yt_table5", key, claim, None, "no residual runs trained on T′'s images, epochs and dtype" + note)
    return weighed(
        "yt_table5",
        key,
        claim,
        paired(by_seed(dominant, "L"), by_seed(alike, "L")),
        f"means {fmt(by_seed(dominant, 'L').mean())} vs {fmt(by_seed(alike, 'L').mean())} "
        f"(residual nets of {alike.epochs.iloc[0]} epochs on the same images, "
        f"{alike.dtype.iloc[0]}){note}",
    )


def claims_table5(runs: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Table 5 from its runs: T′ nets (`dominant`), the full-lower-half variant and residual nets (Table 2's, and
    Table 1's: T′ is compared with the residual nets trained on its images, epochs and dtype)."""
    ok, out = finished(runs), []
    depths = sorted(runs[runs.net == "dominant"].depth.unique())
    out.append(
        all_of(
            "yt_table5",
            "yt_table5.better_than_chance",
            "T′ nets classify far better than chance: E < 0.9 at every depth (paper: ≈ 0.32)",
            {f"d{d}": one_sample(0.9 - by_seed(ok, "E", net="dominant", depth=d)) for d in depths},
            "depths (0.9 − E)",
            diverged_note(runs, net="dominant"),
        )
    )
    out += [_table5_behind_residual(runs, ok, d) for d in depths]
    if len(depths) >= 2:
        lo, hi = depths[0], depths[-1]
        growth = np.log(by_seed(ok, "L", net="dominant", depth=hi) / by_seed(ok, "L", net="dominant", depth=lo))
        out.append(
            weighed(
                "yt_table5",
                "yt_table5.no_degradation",
                f"T′ nets do not degrade with depth: L({hi})/L({lo}) < 1.1 (paper: 1.001, 20→44)",
                one_sample(math.log(1.1) - growth),
                f"log 1.1 − log L({hi})/L({lo}); geometric mean ratio {fmt(math.exp(growth.mean()), 3)}×"
                + diverged_note(runs, net="dominant"),
            )
        )
    common = sorted(set(depths) & set(runs[runs.net == "dominant-full-lower"].depth.unique()))
    if common:
        d = common[0]
        out.append(
            weighed(
                "yt_table5",
                "yt_table5.full_lower",
                f"a full lower half in the doubling kernels lowers T′'s error at depth {d} "
                "(paper: 31.52 % → 21.31 %, depth 20)",
                paired(by_seed(ok, "E", net="dominant", depth=d), by_seed(ok, "E", net="dominant-full-lower", depth=d)),
                "E(T′) − E(full lower half)"
                + diverged_note(runs[runs.net.isin(["dominant", "dominant-full-lower"])], depth=d),
            )
        )
    return out


def claims_table3(per_run: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Table 3's reading (YT App. C) from the statistics of each seed's four vectors (vector, seed, …)."""
    ok = finished(per_run)
    t_note, p_note = diverged_note(per_run, net="residual"), diverged_note(per_run, net="plain")

    def stat(vector, quantity):
        return by_seed(ok, quantity, vector=vector)

    share_t = stat("t_end", "mass_id") / stat("t_end", "mass_large")
    share_p = stat("p_end", "mass_id") / stat("p_end", "mass_large")
    change = (stat("p_end", "mass_id") - stat("p_0", "mass_id")).abs() / stat("p_0", "mass_id")
    return [
        weighed(
            "yt_table3",
            "yt_table3.t_id_share",
            "after training, t's ID entries still carry most of the mass of |w| ≥ 0.25 (paper: 1000/1300)",
            one_sample(share_t - 0.5),
            f"share − 0.5; mean share {fmt(share_t.mean(), 3)}{t_note}",
        ),
        weighed(
            "yt_table3",
            "yt_table3.p_id_share",
            "p's ID entries carry a small share of it (paper: 72/700 = 10 %)",
            one_sample(0.5 - share_p),
            f"0.5 − share; mean share {fmt(share_p.mean(), 3)}{p_note}",
        ),
        weighed(
            "yt_table3",
            "yt_table3.p_id_mass",
            "training barely changes the ID mass of p: by less than 25 % (paper: 67 → 72)",
            one_sample(0.25 - change),
            f"0.25 − relative change; mean ID mass {fmt(stat('p_0', 'mass_id').mean(), 3)} → "
            f"{fmt(stat('p_end', 'mass_id').mean(), 3)}{p_note}",
        ),
    ]


# ---------------------------------------------------------------- YT Figures


def first_reaching_epoch(curve: pd.DataFrame, level: float) -> float:
    """The first evaluated epoch at which a run's L ≤ level; one past its last epoch when it never does."""
    hit = curve[curve.L <= level]
    return float(hit.epoch.min()) if len(hit) else float(curve.epoch.max() + 1)


def claims_fig2(curves: pd.DataFrame, spec: dict) -> list[Row]:
    """Figs 2/8 from every run's curve (net, seed, status, epoch, L, E): the end of the long run, paired by
    seed, and which net first reaches L = reach_loss."""
    curves = curves[curves.depth == spec["depth"]]
    ok = finished(curves)
    end = final_rows(ok)
    out = []
    for q, name in (("L", "training loss"), ("E", "test error")):
        means = {net: by_seed(end, q, net=net).mean() for net in ("plain", "residual")}
        out.append(
            weighed(
                "yt_fig2",
                f"yt_fig2.{q}",
                f"residual {name} below plain at the end of the long run (Figs 2, 8)",
                paired(by_seed(end, q, net="plain"), by_seed(end, q, net="residual")),
                f"{q}(plain) − {q}(residual) at epoch {int(end.epoch.max()) if len(end) else '—'}; means "
                f"{fmt(means['plain'])} vs {fmt(means['residual'])}" + diverged_note(curves),
            )
        )
    level = spec["reach_loss"]
    epochs = {
        net: pd.Series(
            {seed: first_reaching_epoch(c, level) for seed, c in ok[ok.net == net].groupby("seed")}, dtype=float
        )
        for net in ("plain", "residual")
    }
    last = ok.epoch.max() if len(ok) else 0
    never = {net: int((e > last).sum()) for net, e in epochs.items()}
    claim = f"residual nets reach L = {level:g} first (Fig 8a; the paper's level 2e-3)"
    if len(ok) and all(never[net] == len(epochs[net]) for net in epochs):
        out.append(
            Row(
                "yt_fig2",
                "yt_fig2.reach",
                claim,
                INCONCLUSIVE,
                detail=f"no run reached L = {level:g} in {last} epochs: a level too low for this scale"
                + diverged_note(curves),
            )
        )
    else:
        out.append(
            weighed(
                "yt_fig2",
                "yt_fig2.reach",
                claim,
                paired(epochs["plain"], epochs["residual"]),
                f"epoch(plain) − epoch(residual), a run that never reaches it counted at epoch {last + 1}; "
                f"mean epochs {fmt(epochs['plain'].mean(), 3)} vs {fmt(epochs['residual'].mean(), 3)}; "
                f"never reached: plain {never['plain']}, residual {never['residual']}" + diverged_note(curves),
            )
        )
    return out


def cushion_rows(samples: pd.DataFrame, target: str, key: str, claim) -> list[Row]:
    """Residual cushions above plain ones at each depth, from every measured image (net, depth, seed, mu): the
    seeds' mean cushions, paired (`claim(d)` words it; the depths whose runs all diverged are not testable)."""
    means = finished(samples).groupby(["net", "depth", "seed"]).mu.mean().reset_index()
    out = []
    for d in sorted(samples.depth.unique()):
        r, p = by_seed(means, "mu", net="residual", depth=d), by_seed(means, "mu", net="plain", depth=d)
        out.append(
            weighed(
                target,
                key,
                claim(d),
                paired(r, p),
                f"mean μ(residual) − mean μ(plain); {fmt(r.mean(), 3)} vs {fmt(p.mean(), 3)}"
                + diverged_note(samples, depth=d),
            )
        )
    return out


def claims_fig3(samples: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 3: the layer cushion (cushion_rows)."""
    return cushion_rows(
        samples,
        "yt_fig3",
        "yt_fig3.cushion",
        lambda d: f"residual nets have larger layer cushions than plain nets at depth {d} (Fig 3: red right of blue)",
    )


def claims_fig6(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 6 from every step's |ΔL| (columns seed, iteration, epoch, abs_diff): exact checks (the pairs with a
    diverged run left out)."""
    first_claim = "the float64 pair's |ΔL| starts at rounding level, below 1e-12 (Fig 6)"
    growth_claim = "|ΔL| grows slowly: below 1e-10 through the first epoch, larger by the last (Fig 6)"
    data, note = finished(data), diverged_note(data)
    if data.empty:
        return [
            exact("yt_fig6", "yt_fig6.first_step", first_claim, None, "no steps" + note),
            exact("yt_fig6", "yt_fig6.growth", growth_claim, None, "no steps" + note),
        ]
    first_step = data[data.iteration == 1].abs_diff.max()
    first, last = data.epoch.min(), data.epoch.max()
    early, late = data[data.epoch == first].abs_diff.max(), data[data.epoch == last].abs_diff.max()
    seeds = data.seed.nunique()
    growth_detail = f"largest |ΔL| in epoch {first:g}: {fmt(early, 3)}; in epoch {last:g}: {fmt(late, 3)}{note}"
    if first == last or late == 0:  # too short to tell: one epoch, or the pair has not parted yet
        growth = Row(
            "yt_fig6",
            "yt_fig6.growth",
            growth_claim,
            INCONCLUSIVE,
            detail=growth_detail
            + ("; one epoch only" if first == last else "; the pair is still exactly equal in the last epoch"),
        )
    else:
        growth = exact("yt_fig6", "yt_fig6.growth", growth_claim, bool(early < 1e-10 and late > early), growth_detail)
    return [
        exact(
            "yt_fig6",
            "yt_fig6.first_step",
            first_claim,
            first_step < 1e-12,
            f"largest |ΔL| at the first step over {seeds} seeds: {fmt(first_step, 3)}{note}",
        ),
        growth,
    ]


def claims_fig7(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 7 from the plotted histograms of one seed (vector, panel, left, right, count, large): descriptive
    checks of that seed's weights, as the paper's figure is of one net (a diverged run's vectors are missing)."""
    ids = data[(data.vector == "t_end") & (data.panel == "id")]
    mode = None if ids.empty else float(((ids.left + ids.right) / 2).loc[ids["count"].idxmax()])
    counted = data[data.panel == "all"].groupby("vector")["large"].first()
    large = {v: int(counted[v]) for v in ("p_0", "p_end") if v in counted}
    t_note, p_note = diverged_note(data, net="residual"), diverged_note(data, net="plain")
    return [
        exact(
            "yt_fig7",
            "yt_fig7.id_mode",
            "after training, the ID entries of t still peak near 1 (Fig 7: mode around 0.9)",
            None if mode is None else mode > 0.5,
            ("no ID entries of t" if mode is None else f"mode {fmt(mode, 3)} (one seed)") + t_note,
        ),
        exact(
            "yt_fig7",
            "yt_fig7.few_large",
            "very few weights of p exceed 0.7 in magnitude (Fig 7: 1 before training, 26 after)",
            max(large.values()) < 100 if len(large) == 2 else None,
            (", ".join(f"{v}: {n}" for v, n in large.items()) or "no vector of p") + " (one seed)" + p_note,
        ),
    ]


def fig9_steps_epoch(curves: pd.DataFrame, steps: int) -> int:
    """The evaluated epoch whose SGD step count is nearest `steps` (the end, for a shorter run)."""
    at = curves.groupby("epoch").iteration.max()
    return int((at - steps).abs().idxmin())


def claims_fig9(curves: pd.DataFrame, spec: dict) -> list[Row]:
    """Fig 9 from every run's curve (init ∈ kwi (p), t-hmwi (t); depth, seed, epoch, iteration, L)."""
    ok = finished(curves)
    end = final_rows(ok)
    out = []
    for d in sorted(curves.depth.unique()):
        p, t = by_seed(end[end.depth == d], "L", init="kwi"), by_seed(end[end.depth == d], "L", init="t-hmwi")
        out.append(
            weighed(
                "yt_fig9",
                "yt_fig9.t_below_p",
                f"plain nets from t₀ = T(r₀) end below plain nets from KWI at depth {d} (Fig 9)",
                paired(p, t),
                f"L(p) − L(t); means {fmt(p.mean())} vs {fmt(t.mean())}" + diverged_note(curves, depth=d),
            )
        )
    lo, hi = min(spec["left_depths"]), max(spec["left_depths"])
    if lo != hi:
        growth = {
            i: np.log(by_seed(end[end.depth == hi], "L", init=i) / by_seed(end[end.depth == lo], "L", init=i))
            for i in ("kwi", "t-hmwi")
        }
        out.append(
            weighed(
                "yt_fig9",
                "yt_fig9.depth_slows_p",
                f"adding layers ({lo}→{hi}) slows p more than t (Fig 9a: blue curves part, red stay close)",
                paired(growth["kwi"], growth["t-hmwi"]),
                f"log L({hi})/L({lo}), p − t; geometric mean ratios p {fmt(math.exp(growth['kwi'].mean()), 3)}×, "
                f"t {fmt(math.exp(growth['t-hmwi'].mean()), 3)}×" + diverged_note(curves),
            )
        )
    cases = {}
    for d in sorted(curves.depth.unique()):
        at = ok[ok.depth == d]
        gap = (
            at[at.init == "kwi"].set_index(["seed", "epoch"]).L - at[at.init == "t-hmwi"].set_index(["seed", "epoch"]).L
        ).dropna()
        evaluated = sorted(e for e in gap.index.get_level_values("epoch").unique() if e >= 1)
        if len(evaluated) < 2:
            cases[f"d{d}"] = NO_DATA
            continue
        early, until = evaluated[0], fig9_steps_epoch(at, spec["widening_steps"])
        if until <= early:
            cases[f"d{d}"] = NO_DATA
            continue
        widening = gap.xs(until, level="epoch") - gap.xs(early, level="epoch")
        cases[f"d{d} (epoch {early} → {until})"] = one_sample(widening)
    out.append(
        all_of(
            "yt_fig9",
            "yt_fig9.gap_widens",
            f"the gap L(p) − L(t) widens from the start of training (Fig 9b: until about epoch 15, "
            f"{spec['widening_steps']:,} SGD steps)",
            cases,
            "depths of gap(epoch nearest those steps, or the end) − gap(first evaluated epoch)",
            diverged_note(curves),
        )
    )
    return out


def claims_fig10(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 10 from the plotted histogram (mean, sd, n, iterations in every row; n = 0 when its run diverged)."""
    claim = "∂L/∂a⁽ᴸ⁾ is centred near zero: |mean| < 0.1 sd (Fig 10: 1.44e-4 against sd 0.011)"
    drawn = finished(data)
    drawn = drawn[drawn.n > 0]
    if drawn.empty:
        return [exact("yt_fig10", "yt_fig10.centred", claim, None, "no gradients" + diverged_note(data))]
    first = drawn.iloc[0]
    return [
        exact(
            "yt_fig10",
            "yt_fig10.centred",
            claim,
            abs(first["mean"]) < 0.1 * first["sd"],
            f"mean {fmt(first['mean'], 3)}, sd {fmt(first['sd'], 3)}, "
            f"{int(first.n):,} values over {int(first.iterations)} iterations of one run" + diverged_note(data),
        )
    ]


def _sigma_table(ok: pd.DataFrame, arch: str, net: str, stage: str) -> pd.DataFrame:
    """Fig 12's σ of one net at one stage: seeds × layers, the last layer dropped."""
    cell = ok[(ok.arch == arch) & (ok.net == net) & (ok.stage == stage)]
    return cell.pivot_table(index="seed", columns="layer", values="sigma").iloc[:, :-1]


def _fig12_simplified(sigmas: pd.DataFrame, ok: pd.DataFrame) -> list[Row]:
    """Fig 12(a): residual σ above plain at every layer and stage; the residual nets' σ rising with the layer."""
    none, cases = pd.Series(dtype=float), {}
    for stage in ("first", "last"):
        r, p = _sigma_table(ok, "simplified", "residual", stage), _sigma_table(ok, "simplified", "plain", stage)
        cases |= {f"{stage}, layer {layer}": paired(r[layer], p.get(layer, none)) for layer in r.columns}
    rise = _sigma_table(ok, "simplified", "residual", "first")
    low, high = (rise.iloc[:, 0], rise.iloc[:, -1]) if rise.shape[1] else (none, none)
    top = f"{rise.columns[-1]:g}" if rise.shape[1] else "L−1"
    return [
        all_of(
            "yt_fig12",
            "yt_fig12.simplified_above",
            "simplified nets: residual σ above plain σ at every layer, at both stages (Fig 12a)",
            cases,
            "(stage, layer) cases of σ(residual) − σ(plain)",
            diverged_note(sigmas, arch="simplified"),
        ),
        weighed(
            "yt_fig12",
            "yt_fig12.rises",
            "simplified residual nets: σ rises with the layer early in training (Fig 12a, red solid line)",
            one_sample(high - low),
            f"σ(layer {top}) − σ(layer 1); means {fmt(low.mean(), 3)} → "
            f"{fmt(high.mean(), 3)}" + diverged_note(sigmas, arch="simplified", net="residual"),
        ),
    ]


def _fig12_full_deep_above(sigmas: pd.DataFrame, ok: pd.DataFrame) -> Row:
    """Fig 12(b): the fully-fledged residual σ above plain in the deeper half of the layers, at both stages."""
    cases = {}
    for stage in ("first", "last"):
        r, p = _sigma_table(ok, "fully-fledged", "residual", stage), _sigma_table(ok, "fully-fledged", "plain", stage)
        half = r.shape[1] // 2
        cases[stage] = paired(r.iloc[:, half:].mean(axis=1), p.iloc[:, half:].mean(axis=1))
    return all_of(
        "yt_fig12",
        "yt_fig12.full_deep_above",
        "fully-fledged nets: residual σ above plain σ in the deeper half of the layers (Fig 12b)",
        cases,
        "stages of the deeper half's mean σ(residual) − σ(plain)",
        diverged_note(sigmas, arch="fully-fledged"),
    )


def claims_fig12(sigmas: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """Fig 12 from every measured σ (arch, net, depth, seed, stage, layer, sigma). The last layer feeds the
    pooling alone, so its σ is 1 for every net and is left out of the comparisons."""
    ok = finished(sigmas)
    out = _fig12_simplified(sigmas, ok) if "simplified" in set(sigmas.arch) else []
    cases = {
        f"{arch} {net}": one_sample(
            _sigma_table(ok, arch, net, "first").mean(axis=1) - _sigma_table(ok, arch, net, "last").mean(axis=1)
        )
        for arch in dict.fromkeys(sigmas.arch)
        for net in ("plain", "residual")
    }
    out.append(
        all_of(
            "yt_fig12",
            "yt_fig12.falls",
            "σ decreases as training continues (mean over layers, every net; Fig 12)",
            cases,
            "nets of mean σ(first) − mean σ(last)",
            diverged_note(sigmas),
        )
    )
    if "fully-fledged" in set(sigmas.arch):
        out.append(_fig12_full_deep_above(sigmas, ok))
    return out


def claims_cushion_full(samples: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """The interlayer cushion of YT §4 (cushion_rows)."""
    return cushion_rows(
        samples,
        "yt_cushion_full",
        "yt_cushion_full.above",
        lambda d: (
            f"the residual block's interlayer cushion exceeds the plain block's at depth {d} "
            "(YT §4: 0.20 vs 2.7e-7 at depth 20)"
        ),
    )


# ---------------------------------------------------------------- simulations (exact, or Monte Carlo with its se)


def _fig11_eq11(res: pd.DataFrame) -> list[Row]:
    """Eq. 11's approximation against the residual nets' simulation in panels (a)–(d), where its assumptions hold."""
    ad = res[res.parameter.isin(["n", "l", "sigma_A", "sigma_V"])]
    gap = (ad["mean"] - ad.approx_eq11).abs()
    valid = (ad.eps * ad.sigma_A < 0.1) & (ad.n >= 5)  # where its assumptions hold: εσ_A ≪ 1, n ≫ 1
    if not valid.any():
        return []
    worst = ad.loc[gap[valid].idxmax()]
    outside = f"; outside it up to {fmt(gap[~valid].max(), 2)}" if (~valid).any() else ""
    return [
        exact(
            "yt_fig11",
            "yt_fig11.eq11",
            "Eq. 11's approximation and the simulation of residual nets almost coincide in (a)–(d), where "
            "εσ_A < 0.1 and n ≥ 5 (within 0.01 + 2 se)",
            bool((gap[valid] <= 0.01 + 2 * ad.se[valid]).all()),
            f"largest |gap| {fmt(gap[valid].max(), 2)} ({worst.parameter} = {worst.value:g}) over "
            f"{int(valid.sum())} points{outside}",
        )
    ]


def _fig11_panels(panel: dict[str, pd.DataFrame]) -> list[Row]:
    """The residual nets' panels: σ_V without effect (d), E[σ] rising with l (b) and with p (e)."""
    out = []
    if "sigma_V" in panel and len(panel["sigma_V"]) > 1:
        d = panel["sigma_V"]
        spread, noise = d["mean"].max() - d["mean"].min(), 4 * d.se.max()
        out.append(
            exact(
                "yt_fig11",
                "yt_fig11.sigma_V",
                "σ_V has no effect on E[σ] of residual nets (Fig 11(d))",
                bool(spread <= noise),
                f"range {fmt(spread, 2)} against 4 se = {fmt(noise, 2)}",
            )
        )
    for q, name in (("l", "layer index l"), ("p", "p")):
        if q in panel and len(panel[q]) > 1:
            d = panel[q]
            rises = bool((d["mean"].diff().dropna() >= -2 * (d.se.iloc[1:].values + d.se.iloc[:-1].values)).all())
            out.append(
                exact(
                    "yt_fig11",
                    f"yt_fig11.rises_with_{q}",
                    f"E[σ] of residual nets increases with {name} (Fig 11({'b' if q == 'l' else 'e'}))",
                    rises and d["mean"].iloc[-1] > d["mean"].iloc[0],
                    f"{fmt(d['mean'].iloc[0], 3)} at {q} = {d.value.iloc[0]:g} → {fmt(d['mean'].iloc[-1], 3)} "
                    f"at {q} = {d.value.iloc[-1]:g}",
                )
            )
    return out


def _fig11_residual_above(data: pd.DataFrame) -> list[Row]:
    """Residual nets' E[σ] above plain nets' at every point of (a), (b), (d), weighed against the Monte Carlo se."""
    points = data[data.parameter.isin(["n", "l", "sigma_V"])]
    pairs = points.pivot_table(index=["parameter", "value"], columns="net", values=["mean", "se"])
    if not {"plain", "residual"} <= set(pairs.columns.get_level_values("net")):
        return []
    # each point's gap in its Monte Carlo standard errors: above means beyond +2 se, below beyond −2 se
    z = (pairs["mean"].residual - pairs["mean"].plain) / np.hypot(pairs["se"].residual, pairs["se"].plain)
    above, below = int((z > MARGIN).sum()), int((z < -MARGIN).sum())
    verdict = HOLDS if above == len(z) else FAILS if below else INCONCLUSIVE
    return [
        Row(
            "yt_fig11",
            "yt_fig11.residual_above",
            "residual nets' E[σ] above plain nets' in (a), (b), (d)",
            verdict,
            NO_DATA,
            f"{above} of {len(z)} points above by more than {MARGIN:g} se, {below} below; smallest gap "
            f"{fmt(z.min(), 3)} se; smallest ratio {fmt((pairs['mean'].residual / pairs['mean'].plain).min(), 3)}",
        )
    ]


def claims_fig11(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """YT Fig 11 from the Monte Carlo means (parameter, value, net, the point's parameters, mean, se, approx_eq11)."""
    res = data[data.net == "residual"]
    panel = {q: res[res.parameter == q].sort_values("value") for q in dict.fromkeys(data.parameter)}
    return _fig11_eq11(res) + _fig11_panels(panel) + _fig11_residual_above(data)


def claims_fig13(data: pd.DataFrame, spec: dict | None = None) -> list[Row]:
    """YT Fig 13 from its plotted rows (kind: grid, monte_carlo, max_error)."""
    grid = data[data.kind == "grid"]
    worst = data[data.kind == "max_error"].approx_error.abs().max()
    mc = data[data.kind == "monte_carlo"]
    z = ((mc.phi_mc - 2 / math.pi * np.arctan(mc.r)) / mc.se).abs().max() if len(mc) else math.nan
    gap = (grid.phi_integral - grid.phi_closed).abs().max()
    return [
        exact(
            "yt_fig13",
            "yt_fig13.quadrature",
            "φ(r) by quadrature of Eq. 14 equals (2/π)·arctan r",
            bool(gap <= 1e-8),
            f"largest |difference| {fmt(gap, 2)} over {len(grid)} r in [{grid.r.min():g}, {grid.r.max():g}]; "
            f"Monte Carlo within {fmt(z, 2)} se",
        ),
        exact(
            "yt_fig13",
            "yt_fig13.approximation",
            "the approximation 1/(1 + r^−1.2) is barely distinguishable from φ (Fig 13)",
            bool(worst < 0.01),
            f"largest |error| {fmt(worst, 3)}",
        ),
    ]
