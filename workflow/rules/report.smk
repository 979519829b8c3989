# Tables and the scorecard, from finished training runs.

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


def table_rule_input(target):
    return [done for experiment in TABLES[target]["experiments"] for done in groups_done(experiment)]


def table_config(target):
    """The part of the config a table depends on (and whose hash it records): a change elsewhere
    does not re-run it."""
    keys = ("scale", "dataset", "data_source", "train")
    return {**{k: C[k] for k in keys}, "experiments": {e: C["experiments"][e] for e in TABLES[target]["experiments"]}}


for _target in TABLES:

    rule:
        name:
            _target
        input:
            done=table_rule_input(_target),
        output:
            csv=f"results/tables/{_target}.csv",
            md=f"results/tables/{_target}.md",
            tex=f"results/tables/{_target}.tex",
        params:
            target=_target,
            spec=TABLES[_target],
            config=table_config(_target),
        localrule: True
        script:
            "../scripts/table.py"


rule scorecard:
    input:
        tables=[f"results/tables/{t}.csv" for t in TABLES],
        data=rules.data.output.meta,
    output:
        "results/scorecard.md",
    params:
        targets=list(TABLES),
        scale=C["scale"],
    localrule: True
    script:
        "../scripts/scorecard.py"
