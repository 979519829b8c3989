# Tables and figures from finished training runs; each marked for `snakemake --report`.

TABLES = {
    "yt_table1": {
        "experiments": ["table1"],
        "quantities": ["L", "C", "E"],
        "caption": "YT Table 1: training loss L, cost C and test error E after training; "
        "plain nets KWI, residual nets HMWI; mean ± sd over seeds (n).",
    },
    "yt_table2": {
        "experiments": ["table2"],
        "quantities": ["L", "C", "E"],
        "caption": "YT Table 2: plain nets started at T(r₀) with weight decay on T⁻¹(p) vs residual nets "
        "started at r₀ (HMWI), same seeds and minibatches, float64; mean ± sd over seeds (n).",
    },
    "yt_table4": {
        "experiments": ["table1"],
        "quantities": ["L_before", "reg_before", "L", "reg"],
        "caption": "YT Table 4: training loss L and weight regularisation (λ/2)·‖w‖²/batch before and "
        "after training, from the Table 1 runs; mean ± sd over seeds (n).",
    },
    "yt_table5": {
        "experiments": ["table5", "table5_full_lower", "table2"],
        "nets": ["residual", "dominant", "dominant-full-lower"],
        "quantities": ["L", "E"],
        "caption": "YT Table 5: nets with only the dominant paths T′ (within-group kernels diagonal, "
        "channel-doubling kernels two stacked diagonals; HMWI), the variant whose doubling kernels "
        "have a full lower half, and the residual nets of Table 2; mean ± sd over seeds (n).",
    },
}


FIGURES = {
    "yt_fig2": {
        "caption": "YT Figs 2 and 8: training loss L (log scale) and test error E against epoch, plain nets "
        "(KWI, blue) and residual nets (HMWI, red); thick lines are means over seeds, error bars ±1 sd. "
        "The epoch at which each mean first reaches the loss of Fig 8(a) is written in the left panel.",
    },
    "yt_fig6": {
        "caption": "YT Fig 6: the equivalent pair of Table 2 (plain net at p₀ = T(r₀) with decay on T⁻¹(p), "
        "residual net at r₀, float64, the same minibatches). Left: the loss of every SGD step's minibatch, "
        "taken before the step; right: the absolute difference of the two, on a log scale, one colour per seed. "
        "Steps where the two losses are exactly equal cannot be drawn on a log axis; the legend counts them.",
    },
    "yt_fig9": {
        "caption": "YT Fig 9. Left: training loss L of plain nets started at p₀ ~ KWI (blue) and at the "
        "residual-equivalent t₀ = T(r₀), r₀ ~ HMWI, with decay on T⁻¹(p) (red); solid and dotted lines for the "
        "two depths, the final mean at each curve's end. Right: L(p) − L(t) of seed-paired runs against "
        "epoch, mean ± sd, per depth, on a log scale (non-positive means are not drawn).",
    },
}


for _target in TABLES:

    rule:
        name:
            _target
        input:
            done=target_input(_target),
        output:
            csv=f"results/tables/{_target}.csv",
            md=report(f"results/tables/{_target}.md", caption="../report/caption.rst", category="Tables"),
            tex=f"results/tables/{_target}.tex",
            runs=f"results/measures/{_target}/runs.csv",
        log:
            f"results/logs/{_target}.log",
        localrule: True
        params:
            target=_target,
            spec=TABLES[_target],
            caption=TABLES[_target]["caption"],
            config=target_config(_target),
        script:
            "../scripts/table.py"


for _target in FIGURES:

    rule:
        name:
            _target
        input:
            done=target_input(_target),
        output:
            png=report(f"results/figures/{_target}.png", caption="../report/caption.rst", category="Figures"),
            pdf=f"results/figures/{_target}.pdf",
            csv=f"results/figures/{_target}.csv",
            runs=f"results/measures/{_target}/curves.csv",
        log:
            f"results/logs/{_target}.log",
        localrule: True
        params:
            target=_target,
            spec=C["figures"][_target],
            caption=FIGURES[_target]["caption"],
            config=target_config(_target),
        script:
            "../scripts/figure.py"


rule yt_fig8:
    """YT Fig 8 is Fig 2 (the same caption and runs)."""
    input:
        rules.yt_fig2.output,
    localrule: True
