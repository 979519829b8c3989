# Tables and the scorecard, from finished training runs.

TABLES = {
    "yt_table1": {
        "experiment": "table1",
        "quantities": ["L", "C", "E"],
        "caption": "YT Table 1: training loss L, cost C and test error E after training; "
        "plain nets KWI, residual nets HMWI; mean ± sd over seeds (n).",
    },
    "yt_table4": {
        "experiment": "table1",
        "quantities": ["L_before", "reg_before", "L", "reg"],
        "caption": "YT Table 4: training loss L and weight regularisation (λ/2)·‖w‖²/batch before and "
        "after training, from the Table 1 runs; mean ± sd over seeds (n).",
    },
}


def table_rule_input(target):
    return groups_done(TABLES[target]["experiment"])


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
            config=C,
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
