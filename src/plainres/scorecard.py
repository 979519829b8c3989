"""The scorecard: every published number of the built targets beside ours, and whether each of the
papers' qualitative claims holds in our runs."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from .tables import cell_text, fmt, with_paper


def mean_of(summary: pd.DataFrame, net: str, depth: int, quantity: str) -> float:
    hit = summary[(summary.net == net) & (summary.depth == depth) & (summary.quantity == quantity)]
    return float(hit["mean"].iloc[0]) if len(hit) else math.nan


def verdict(ok: bool | None, detail: str) -> tuple[str, str]:
    return ("not testable" if ok is None else "holds" if ok else "fails"), detail


def claims_table1(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    depths = sorted(s.depth.unique())
    out = []
    for q, name in (("L", "training loss"), ("E", "test error")):
        pairs = [(d, mean_of(s, "residual", d, q), mean_of(s, "plain", d, q)) for d in depths]
        finite = [(d, r, p) for d, r, p in pairs if not (math.isnan(r) or math.isnan(p))]
        ok = all(r < p for _, r, p in finite) if finite else None
        detail = "; ".join(f"d{d}: {fmt(r)} vs {fmt(p)}" for d, r, p in finite)
        out.append((f"residual {name} below plain at every depth (Table 1)", *verdict(ok, detail)))
    if len(depths) >= 2:
        lo, hi = depths[0], depths[-1]
        ratio = {net: mean_of(s, net, hi, "L") / mean_of(s, net, lo, "L") for net in ("plain", "residual")}
        ok = None if any(math.isnan(v) for v in ratio.values()) else ratio["plain"] > ratio["residual"]
        out.append((f"plain degrades more than residual from depth {lo} to {hi} (paper: 6.85× vs 1.73×, 20→44)",
                    *verdict(ok, f"L ratio plain {fmt(ratio['plain'], 3)}×, residual {fmt(ratio['residual'], 3)}×")))
    return out


def claims_table4(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    out = []
    ratios = [(net, d, mean_of(s, net, d, "L") / mean_of(s, net, d, "reg")) for net in ("plain", "residual")
              for d in sorted(s.depth.unique())]
    ratios = [r for r in ratios if not math.isnan(r[2])]
    smallest = min(ratios, key=lambda r: r[2]) if ratios else None
    out.append(("weight regularisation small against L after training (paper: L/reg ≥ 80.67)",
                *verdict(None if smallest is None else smallest[2] > 10,
                         "" if smallest is None else f"smallest L/reg {fmt(smallest[2], 3)} ({smallest[0]}, d{smallest[1]})")))
    d = min(s.depth.unique())
    ratio = mean_of(s, "plain", d, "reg_before") / mean_of(s, "residual", d, "reg_before")
    out.append(("before training, plain regularisation ≫ residual's (paper: 268× at depth 20)",
                *verdict(None if math.isnan(ratio) else ratio > 10, f"{fmt(ratio, 3)}× at depth {d}")))
    return out


def claims_table2(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    gaps = [(d, abs(mean_of(s, "plain", d, "L") - mean_of(s, "residual", d, "L")) / mean_of(s, "residual", d, "L"))
            for d in sorted(s.depth.unique())]
    gaps = [(d, g) for d, g in gaps if not math.isnan(g)]
    return [("equivalently initialised plain and residual nets reach the same L (paper: within 4 %)",
             *verdict(all(g < 0.1 for _, g in gaps) if gaps else None,
                      "; ".join(f"d{d}: {100 * g:.2g} % apart" for d, g in gaps)))]


def claims_table5(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    depths = sorted(s[s.net == "dominant"].depth.unique())
    errors = [(d, mean_of(s, "dominant", d, "E")) for d in depths]
    out = [("T′ nets classify far better than chance (E < 0.9) at every depth (paper: ≈ 0.32)",
            *verdict(all(e < 0.9 for _, e in errors) if errors else None,
                     "; ".join(f"d{d}: E {fmt(e)}" for d, e in errors)))]
    if len(depths) >= 2:
        ratio = mean_of(s, "dominant", depths[-1], "L") / mean_of(s, "dominant", depths[0], "L")
        out.append((f"T′ nets do not degrade with depth, {depths[0]}→{depths[-1]} (paper: L ratio 1.001, 20→44)",
                    *verdict(None if math.isnan(ratio) else ratio < 1.1, f"L ratio {fmt(ratio, 3)}×")))
    common = sorted(set(depths) & set(s[s.net == "dominant-full-lower"].depth.unique()))
    if common:
        d = common[0]
        diag, full = mean_of(s, "dominant", d, "E"), mean_of(s, "dominant-full-lower", d, "E")
        out.append(("a full lower half in the doubling kernels lowers T′'s error (paper: 31.52 % → 21.31 %, depth 20)",
                    *verdict(None if math.isnan(diag + full) else full < diag, f"d{d}: E {fmt(diag)} → {fmt(full)}")))
    return out


def claims_table3(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Table 3's reading (YT App. C) from the summary of the four vectors (net = p_0, p_end, t_0, t_end)."""
    def m(vector, quantity):
        hit = s[(s.net == vector) & (s.quantity == quantity)]
        return float(hit["mean"].iloc[0]) if len(hit) else math.nan

    share_t, share_p = m("t_end", "mass_id") / m("t_end", "mass_large"), m("p_end", "mass_id") / m("p_end", "mass_large")
    change = abs(m("p_end", "mass_id") - m("p_0", "mass_id")) / m("p_0", "mass_id")

    def known(x, ok):
        return None if math.isnan(x) else bool(ok)

    return [("after training, t's ID entries still carry most of the mass of |w| ≥ 0.25 (paper: 1000/1300)",
             *verdict(known(share_t, share_t > 0.5), f"ID mass / mass of |w| ≥ 0.25: {fmt(share_t, 3)}")),
            ("p's ID entries carry a small share of it (paper: 72/700 = 10 %)",
             *verdict(known(share_p, share_p < 0.5), f"{fmt(share_p, 3)}")),
            ("training barely changes the ID mass of p (paper: 67 → 72)",
             *verdict(known(change, change < 0.25), f"{fmt(m('p_0', 'mass_id'), 3)} → {fmt(m('p_end', 'mass_id'), 3)}"))]


def claims_fig3(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 3 from the plotted histograms (net, depth, …, mean): the mean cushion per net and depth."""
    means = {key: float(h["mean"].iloc[0]) for key, h in data.groupby(["net", "depth"])}
    depths = sorted({d for _, d in means})
    pairs = [(d, means.get(("residual", d), math.nan), means.get(("plain", d), math.nan)) for d in depths]
    return [("residual nets have larger layer cushions than plain nets (Fig 3: red right of blue)",
             *verdict(all(r > p for _, r, p in pairs) if pairs else None,
                      "; ".join(f"d{d}: mean μ {fmt(r, 3)} vs {fmt(p, 3)}" for d, r, p in pairs)))]


def claims_fig7(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 7 from the plotted histograms (vector, panel, left, right, count)."""
    ids = data[(data.vector == "t_end") & (data.panel == "id")]
    mode = None if ids.empty else float(((ids.left + ids.right) / 2).loc[ids["count"].idxmax()])
    large = {v: int(data[(data.vector == v) & (data.panel == "all")]["large"].iloc[0]) for v in ("p_0", "p_end")}
    return [("after training, the ID entries of t still peak near 1 (Fig 7: mode around 0.9)",
             *verdict(None if mode is None else mode > 0.5, "" if mode is None else f"mode {fmt(mode, 3)}")),
            ("very few weights of p exceed 0.7 in magnitude (Fig 7: 1 before training, 26 after)",
             *verdict(max(large.values()) < 100, ", ".join(f"{v}: {n}" for v, n in large.items())))]


def fig10_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Fig 10's mean and sd of ∂L/∂a⁽ᴸ⁾ beside the paper's (1.44e-4, 0.011)."""
    first = data.iloc[0]
    rows = [{"net": "residual", "depth": int(first.depth), "quantity": q, "mean": float(first[q]), "sd": math.nan,
             "n": int(first.n), "diverged": 0} for q in ("mean", "sd")]
    return with_paper(pd.DataFrame(rows), "yt_fig10")


def claims_fig10(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    first = data.iloc[0]
    return [("∂L/∂a⁽ᴸ⁾ is centred near zero: |mean| < 0.1 sd (Fig 10: 1.44e-4 against sd 0.011)",
             *verdict(abs(first["mean"]) < 0.1 * first["sd"], f"mean {fmt(first['mean'], 3)}, sd {fmt(first['sd'], 3)}, "
                      f"{int(first.n):,} values over {int(first.iterations)} iterations"))]


def claims_fig2(data: pd.DataFrame, reach_loss: float) -> list[tuple[str, str, str]]:
    """Figs 2/8 from the plotted means (columns net, quantity, epoch, mean)."""
    def series(net, q):
        return data[(data.net == net) & (data.quantity == q)].sort_values("epoch")

    out = []
    for q, name in (("L", "training loss"), ("E", "test error")):
        plain, residual = series("plain", q)["mean"], series("residual", q)["mean"]
        ok = None if plain.empty or residual.empty else residual.iloc[-1] < plain.iloc[-1]
        out.append((f"residual {name} below plain at the end of the long run (Figs 2, 8)",
                    *verdict(ok, "" if ok is None else f"{fmt(residual.iloc[-1])} vs {fmt(plain.iloc[-1])}")))
    reached = {}
    for net in ("plain", "residual"):
        hit = series(net, "L").query("mean <= @reach_loss")
        reached[net] = None if hit.empty else int(hit.epoch.iloc[0])
    if reached["residual"] is None:
        ok = None if reached["plain"] is None else False
    else:
        ok = reached["plain"] is None or reached["residual"] <= reached["plain"]
    detail = ", ".join(f"{net} {'epoch ' + str(e) if e is not None else 'never'}" for net, e in reached.items())
    out.append((f"residual nets reach L = {reach_loss:g} first (Fig 8a)", *verdict(ok, detail)))
    return out


def claims_fig6(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 6 from every step's |ΔL| (columns seed, iteration, epoch, abs_diff)."""
    if data.empty:
        return [("the float64 pair's |ΔL| starts below 1e-12 (Fig 6)", *verdict(None, "no steps"))]
    first_step = data[data.iteration == 1].abs_diff.max()
    first, last = data.epoch.min(), data.epoch.max()
    early, late = data[data.epoch == first].abs_diff.max(), data[data.epoch == last].abs_diff.max()
    if first == last or late == 0:  # too short a run: the pair has not parted yet
        growth = None
    else:
        growth = bool(early < 1e-10 and late > early)
    return [("the float64 pair's |ΔL| starts at rounding level, below 1e-12 (Fig 6)",
             *verdict(first_step < 1e-12, f"largest |ΔL| at the first step over seeds: {fmt(first_step, 3)}")),
            ("|ΔL| grows slowly: below 1e-10 through the first epoch, larger by the last (Fig 6)",
             *verdict(growth, f"largest |ΔL| in epoch {first}: {fmt(early, 3)}; in epoch {last}: {fmt(late, 3)}"
                      + ("; still exactly equal in the last epoch" if late == 0 else "")))]


def fig9_summary(data: pd.DataFrame) -> pd.DataFrame:
    """Fig 9's final means (left panel) as a summary with the paper's values (0.13/0.46, 0.055/0.083)."""
    left = data[data.panel == "left"]
    last = left[left.epoch == left.epoch.max()]
    names = {"kwi": "p", "t-hmwi": "t"}
    rows = [{"net": names[r.init], "depth": int(r.depth), "quantity": "L", "mean": r.mean, "sd": r.sd,
             "n": int(r.n), "diverged": 0} for r in last.itertuples()]
    return with_paper(pd.DataFrame(rows), "yt_fig9")


def claims_fig9(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 9 from the plotted means: left panel (init, depth, epoch, mean) and right panel (gap)."""
    right = data[data.panel == "right"]
    final = right[right.epoch == right.epoch.max()].sort_values("depth")
    out = [("plain nets from t₀ = T(r₀) end below plain nets from KWI at every depth (Fig 9)",
            *verdict(bool((final["mean"] > 0).all()) if len(final) else None,
                     "; ".join(f"d{int(r.depth)}: L(p) − L(t) = {fmt(r.mean, 3)}" for r in final.itertuples())))]
    left = data[data.panel == "left"]
    end = left[left.epoch == left.epoch.max()]
    depths = sorted(end.depth.unique())
    if len(depths) >= 2:
        lo, hi = depths[0], depths[-1]
        ratio = {i: float(end[(end.init == i) & (end.depth == hi)]["mean"].iloc[0] /
                          end[(end.init == i) & (end.depth == lo)]["mean"].iloc[0]) for i in ("kwi", "t-hmwi")}
        out.append((f"adding layers ({lo}→{hi}) slows p more than t (Fig 9a: blue curves part, red stay close)",
                    *verdict(ratio["kwi"] > ratio["t-hmwi"],
                             f"final L ratio p {fmt(ratio['kwi'], 3)}×, t {fmt(ratio['t-hmwi'], 3)}×")))
    widening = []
    for depth, gap in right.groupby("depth"):
        gap = gap.sort_values("epoch")
        peak = gap.loc[gap["mean"].idxmax()]
        widening.append((int(depth), int(peak.epoch), bool(peak["mean"] > gap["mean"].iloc[0])))
    out.append(("the gap L(p) − L(t) widens from the start of training (Fig 9b: until about epoch 15)",
                *verdict(all(w for *_, w in widening) if widening else None,
                         "; ".join(f"d{d}: largest at epoch {e}" for d, e, _ in widening))))
    return out


def claims_cushion_full(s: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The interlayer cushion table (net, depth, quantity ∈ mean, mean_se, sd, sd_se)."""
    out = []
    for d in sorted(s.depth.unique()):
        (r, r_se), (p, p_se) = [(mean_of(s, net, d, "mean"), mean_of(s, net, d, "mean_se")) for net in ("residual", "plain")]
        margin = 3 * math.hypot(r_se, p_se)
        ok = None if math.isnan(r + p) else bool(r - p > margin)
        claim = ("the residual block's interlayer cushion exceeds the plain block's by more than 3 standard errors "
                 "(YT §4: 0.20 vs 2.7e-7 at depth 20)")
        out.append((claim, *verdict(ok, f"d{d}: mean μ {fmt(r, 3)} vs {fmt(p, 3)} ({fmt(r / p, 3)}×; 3 se = {fmt(margin, 2)})")))
    return out


def fig12_summary(data: pd.DataFrame, spec: dict) -> pd.DataFrame:
    """σ(residual) / σ(plain) at each panel's ratio layers, the mean of the two stages' ratios of seed means
    (the paper's "on average … through the whole training process"), beside the paper's values."""
    rows = []
    for arch, panel in spec["panels"].items():
        cell = data[data.arch == arch]
        for layer in panel["ratio_layers"]:
            ratios = []
            for stage in ("first", "last"):
                at = cell[(cell.stage == stage) & (cell.layer == layer)].set_index("net")
                ratios.append(at.loc["residual", "mean"] / at.loc["plain", "mean"])
            rows.append({"net": arch, "depth": panel["depth"], "quantity": f"ratio_{layer}",
                         "mean": sum(ratios) / len(ratios), "sd": math.nan, "n": int(cell["n"].min()), "diverged": 0})
    return with_paper(pd.DataFrame(rows), "yt_fig12")


def claims_fig12(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 12 from the plotted seed means (arch, net, stage, layer, mean). The last layer feeds the pooling
    alone, so its σ is 1 for every net and is left out of the comparisons."""
    def sigma(arch, net, stage):
        cell = data[(data.arch == arch) & (data.net == net) & (data.stage == stage)].sort_values("layer")
        return cell.set_index("layer")["mean"].iloc[:-1]

    out = []
    if "simplified" in set(data.arch):
        above = [(stage, int((sigma("simplified", "residual", stage) > sigma("simplified", "plain", stage)).sum()),
                  len(sigma("simplified", "plain", stage))) for stage in ("first", "last")]
        out.append(("simplified nets: residual σ above plain σ at every layer, at both stages (Fig 12a)",
                    *verdict(all(k == n for _, k, n in above), "; ".join(f"{st}: {k} of {n} layers" for st, k, n in above))))
        rise = sigma("simplified", "residual", "first")
        out.append(("simplified residual nets: σ rises with the layer early in training (Fig 12a, red solid line)",
                    *verdict(bool(rise.iloc[-1] > rise.iloc[0]), f"σ at layer 1: {fmt(rise.iloc[0], 3)}; at layer "
                             f"{rise.index[-1]}: {fmt(rise.iloc[-1], 3)}")))
    falls = []
    for arch in dict.fromkeys(data.arch):
        for net in ("plain", "residual"):
            first, last = sigma(arch, net, "first").mean(), sigma(arch, net, "last").mean()
            falls.append((arch, net, first, last))
    out.append(("σ decreases as training continues (mean over layers, every net; Fig 12)",
                *verdict(all(last < first for *_, first, last in falls),
                         "; ".join(f"{a} {n}: {fmt(f, 3)} → {fmt(l_, 3)}" for a, n, f, l_ in falls))))
    if "fully-fledged" in set(data.arch):
        deep = []
        for stage in ("first", "last"):
            r, p = sigma("fully-fledged", "residual", stage), sigma("fully-fledged", "plain", stage)
            half = len(r) // 2
            deep.append((stage, r.iloc[half:].mean(), p.iloc[half:].mean()))
        out.append(("fully-fledged nets: residual σ above plain σ in the deeper half of the layers (Fig 12b)",
                    *verdict(all(r > p for _, r, p in deep),
                             "; ".join(f"{st}: {fmt(r, 3)} vs {fmt(p, 3)}" for st, r, p in deep))))
    return out


def claims_fig11(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """YT Fig 11 from the Monte Carlo means (parameter, value, net, the point's parameters, mean, se, approx_eq11)."""
    out = []
    res = data[data.net == "residual"]
    panel = {q: res[res.parameter == q].sort_values("value") for q in dict.fromkeys(data.parameter)}
    ad = res[res.parameter.isin(["n", "l", "sigma_A", "sigma_V"])]
    gap = (ad["mean"] - ad.approx_eq11).abs()
    valid = (ad.eps * ad.sigma_A < 0.1) & (ad.n >= 5)  # where its assumptions hold: εσ_A ≪ 1, n ≫ 1
    if valid.any():
        worst = ad.loc[gap[valid].idxmax()]
        outside = f"; outside it up to {fmt(gap[~valid].max(), 2)}" if (~valid).any() else ""
        out.append((("Eq. 11's approximation and the simulation of residual nets almost coincide in (a)–(d), where "
                     "εσ_A < 0.1 and n ≥ 5 (within 0.01 + 2 se)"),
                    *verdict(bool((gap[valid] <= 0.01 + 2 * ad.se[valid]).all()),
                             f"largest |gap| {fmt(gap[valid].max(), 2)} ({worst.parameter} = {worst.value:g}) over "
                             f"{int(valid.sum())} points{outside}")))
    if "sigma_V" in panel and len(panel["sigma_V"]) > 1:
        d = panel["sigma_V"]
        spread, noise = d["mean"].max() - d["mean"].min(), 4 * d.se.max()
        out.append(("σ_V has no effect on E[σ] of residual nets (Fig 11(d))",
                    *verdict(bool(spread <= noise), f"range {fmt(spread, 2)} against 4 se = {fmt(noise, 2)}")))
    for q, name in (("l", "layer index l"), ("p", "p")):
        if q in panel and len(panel[q]) > 1:
            d = panel[q]
            rises = bool((d["mean"].diff().dropna() >= -2 * (d.se.iloc[1:].values + d.se.iloc[:-1].values)).all())
            out.append((f"E[σ] of residual nets increases with {name} (Fig 11({'b' if q == 'l' else 'e'}))",
                        *verdict(rises and d["mean"].iloc[-1] > d["mean"].iloc[0],
                                 f"{fmt(d['mean'].iloc[0], 3)} at {q} = {d.value.iloc[0]:g} → {fmt(d['mean'].iloc[-1], 3)} "
                                 f"at {q} = {d.value.iloc[-1]:g}")))
    pairs = data[data.parameter.isin(["n", "l", "sigma_V"])].pivot_table(index=["parameter", "value"], columns="net",
                                                                          values="mean")
    if {"plain", "residual"} <= set(pairs.columns):
        above = int((pairs.residual > pairs.plain).sum())
        out.append(("residual nets' E[σ] above plain nets' in (a), (b), (d)",
                    *verdict(above == len(pairs), f"{above} of {len(pairs)} points; smallest ratio "
                             f"{fmt((pairs.residual / pairs.plain).min(), 3)}")))
    return out


def claims_fig13(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """YT Fig 13 from its plotted rows (kind: grid, monte_carlo, max_error)."""
    grid = data[data.kind == "grid"]
    worst = data[data.kind == "max_error"].approx_error.abs().max()
    mc = data[data.kind == "monte_carlo"]
    z = ((mc.phi_mc - 2 / math.pi * np.arctan(mc.r)) / mc.se).abs().max() if len(mc) else math.nan
    return [("φ(r) by quadrature of Eq. 14 equals (2/π)·arctan r",
             *verdict(bool((grid.phi_integral - grid.phi_closed).abs().max() <= 1e-8),
                      f"largest |difference| {fmt((grid.phi_integral - grid.phi_closed).abs().max(), 2)} over "
                      f"{len(grid)} r in [{grid.r.min():g}, {grid.r.max():g}]; Monte Carlo within {fmt(z, 2)} se")),
            ("the approximation 1/(1 + r^−1.2) is barely distinguishable from φ (Fig 13)",
             *verdict(bool(worst < 0.01), f"largest |error| {fmt(worst, 3)}"))]


def claims_lw_fig1_abc(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """The ensemble's mass moves to longer paths as β grows (LW Fig 1(a–c), Lemma 4)."""
    modes = [(beta, int(g.loc[g.epsilon.idxmax(), "r"]), int(g.p.iloc[0])) for beta, g in data.groupby("beta")]
    return [("the effective depth argmax_r ε_r grows with β (Fig 1(a–c))",
             *verdict(all(a[1] < b[1] for a, b in itertools.pairwise(modes)) if len(modes) > 1 else None,
                      "; ".join(f"β = {b:g}: r = {r} of p = {p}" for b, r, p in modes)))]


def claims_lw_theorem1(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Theorem 1 at the largest p computed: argmax_r ε_r / p within 1/p of β/(1+β), for every β."""
    top = data[data.p == data.p.max()]
    gaps = [(row.beta, abs(row.fraction - row.limit)) for row in top.itertuples()]
    p = int(top.p.iloc[0])
    return [(f"argmax_r ε_r / p → β/(1+β) (Theorem 1): within 1/p at p = {p:,}",
             *verdict(all(g <= 1 / p for _, g in gaps), "; ".join(f"β = {b:g}: |Δ| = {fmt(g, 2)}" for b, g in gaps)))]


def claims_lw_fig1_f(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Fig 1(f): θ_k rises with β (more low-index critical points as the ensemble deepens), below Theorem 5's bound."""
    out = []
    for (p, r_start), g in data.groupby(["p", "r_start"]):
        g = g.sort_values("beta")
        rises = bool((g.theta_k.diff().dropna() >= -1e-12).all())
        below = bool((g.theta_k <= g.bound + 1e-12).all())
        out.append((f"θ_k rises with β and stays below Theorem 5's bound (Fig 1(f); p = {p}, sums from r = {r_start})",
                    *verdict(rises and below, f"θ_k {fmt(g.theta_k.iloc[0], 3)} at β = {g.beta.iloc[0]:g} → "
                             f"{fmt(g.theta_k.iloc[-1], 3)} at β = {g.beta.iloc[-1]:g}; bound {fmt(g.bound.iloc[0], 4)}")))
    return out


def _late_rise(iteration: pd.Series, value: pd.Series) -> float:
    """Spearman's ρ of `value` against `iteration` over the second half of training."""
    late = iteration >= iteration.max() / 2
    return float(value[late].rank().corr(iteration[late].rank()))


def claims_lw_fig1_d(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """LW Fig 1(d) and Thm 3: the BN scales of the skippable layers grow as training goes on."""
    skip = data[(data.panel == "over training") & (data.series == "mean lambda_2..L")].sort_values("iteration")
    rho = _late_rise(skip.iteration, skip.value)
    low = skip.loc[skip.value.idxmin()]
    stages = data[data.panel == "by layer"]
    means = stages[stages.layer >= 2].groupby("iteration").value.mean().sort_index()
    return [(("λ_l of the skippable layers (l ≥ 2) rise as training goes on (Fig 1(d), Thm 3): rank correlation "
              "with iteration over the second half > 0.5"),
             *verdict(bool(rho > 0.5), f"mean λ_2..: {fmt(skip.value.iloc[0], 3)} at start, lowest {fmt(low.value, 3)} "
                      f"at iteration {int(low.iteration)}, {fmt(skip.value.iloc[-1], 3)} at the end; ρ = {fmt(rho, 3)}")),
            ("each later stage's λ_l line lies higher (Fig 1(d) caption), from the initialisation on",
             *verdict(bool((means.diff().dropna() > 0).all()),
                      "; ".join(f"it {int(i)}: {fmt(v, 3)}" for i, v in means.items())))]


def claims_lw_fig1_e(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """LW Fig 1(e) and Thm 4: without BN, the norm of the weights grows during training."""
    w = data[data.series == "w_norm"].sort_values("iteration")
    rho = _late_rise(w.iteration, w.value)
    return [("‖w‖ of the residual net without BN grows during training (Fig 1(e), Thm 4)",
             *verdict(bool(w.value.iloc[-1] > w.value.iloc[0] and rho > 0.5),
                      f"‖w‖ {fmt(w.value.iloc[0], 4)} → {fmt(w.value.iloc[-1], 4)}; ρ over the second half {fmt(rho, 3)}"))]


def claims_lw_appc(data: pd.DataFrame) -> list[tuple[str, str, str]]:
    """LW App. C Fig 2(b, d): the mean norm of the conv layers with the BN scale absorbed grows over training."""
    out = []
    for dataset, g in data[(data.view == "mean_over_layers") & (data.quantity == "absorbed_norm")].groupby("dataset"):
        g = g.sort_values("epoch")
        first, last = g["mean"].iloc[0], g["mean"].iloc[-1]
        out.append((f"{dataset}: the mean BN-absorbed conv norm grows during training (LW App. C Fig 2)",
                    *verdict(bool(last > first), f"epoch {int(g.epoch.iloc[0])}: {fmt(first, 4)} → epoch "
                             f"{int(g.epoch.iloc[-1])}: {fmt(last, 4)}")))
    return out


# Figures whose published numbers are compared, as summaries like the tables' (from the plotted data and
# the figure's own settings).
FIGURE_SUMMARIES = {"yt_fig9": lambda d, _: fig9_summary(d), "yt_fig10": lambda d, _: fig10_summary(d),
                    "yt_fig12": fig12_summary}


# The simulations' claims, from their plotted data.
SIMULATION_CLAIMS = {"yt_fig11": claims_fig11, "yt_fig13": claims_fig13, "lw_fig1_abc": claims_lw_fig1_abc, "lw_theorem1": claims_lw_theorem1,
                     "lw_fig1_d": claims_lw_fig1_d, "lw_fig1_e": claims_lw_fig1_e, "lw_fig1_f": claims_lw_fig1_f}


def render(tables: dict[str, pd.DataFrame], figures: dict[str, pd.DataFrame], figure_specs: dict,
           scale: str, data_source: str) -> str:
    """Markdown: published numbers vs ours per target, then the claims."""
    lines = ["# Scorecard", "", f"Scale: **{scale}**; data: {data_source}.",
             "Ours are mean ± sd over seeds (n). At scales other than `paper` the depths, epochs and data",
             "differ from the paper's, so the numbers are not comparable; the claims still are.", "",
             "## Published numbers", "", "| target | net | depth | quantity | paper | ours |", "|---|---|---|---|---:|---|"]
    compared_targets = {**tables, **{t: summary(figures[t], figure_specs.get(t))
                                     for t, summary in FIGURE_SUMMARIES.items() if t in figures}}
    for target, s in compared_targets.items():
        compared = s[s.paper.notna()]
        for _, row in compared.iterrows():
            lines.append(f"| {target} | {row.net} | {row.depth} | {row.quantity} | {fmt(row.paper)} | {cell_text(row)} |")
        if not len(compared):
            lines.append(f"| {target} | — | — | — | — | no depth of this scale has a published value |")
    lines += ["", "## Claims", "", "| target | claim | verdict | evidence |", "|---|---|---|---|"]
    builders = {"yt_table1": claims_table1, "yt_table2": claims_table2, "yt_table3": claims_table3,
                "yt_table4": claims_table4, "yt_table5": claims_table5,
                "yt_fig2": lambda d: claims_fig2(d, figure_specs["yt_fig2"]["reach_loss"]), "yt_fig3": claims_fig3,
                "yt_fig6": claims_fig6, "yt_fig7": claims_fig7, "yt_fig9": claims_fig9, "yt_fig10": claims_fig10,
                "yt_fig12": claims_fig12, "yt_cushion_full": claims_cushion_full, **SIMULATION_CLAIMS,
                "lw_appc": claims_lw_appc}
    for target, s in {**tables, **figures}.items():
        for claim, result, detail in builders[target](s):
            lines.append(f"| {target} | {claim} | {result} | {detail} |")
    return "\n".join(lines) + "\n"
