# The scorecard: every published number beside ours, and each claim weighed against its seeds.

# What the scorecard reads: the tables' summaries and three figures' plotted numbers for the published values,
# and for each scored target the file its claims weigh over seeds (its runs, curves or measurements; the
# plotted numbers for the exact checks and the simulations).
MEASURED_TABLES = ["yt_table3", "yt_cushion_full"]
SUMMARISED_FIGURES = ["yt_fig9", "yt_fig10", "yt_fig12"]
CLAIM_DATA = {
    **{t: f"results/measures/{t}/runs.csv" for t in TABLES},
    # T′ against residual nets trained alike: Table 1's (float32, the same images and epochs), not only Table 2's
    "yt_table5": ["results/measures/yt_table5/runs.csv", "results/measures/yt_table1/runs.csv"],
    "yt_table3": rules.yt_table3.output.weights,
    "yt_cushion_full": rules.yt_cushion_full.output.samples,
    "yt_fig2": rules.yt_fig2.output.runs,
    "yt_fig3": rules.yt_fig3.output.samples,
    "yt_fig6": rules.yt_fig6.output.csv,
    "yt_fig7": rules.yt_fig7.output.csv,
    "yt_fig9": rules.yt_fig9.output.runs,
    "yt_fig10": rules.yt_fig10.output.csv,
    "yt_fig12": rules.yt_fig12.output.samples,
    "lw_appc": rules.lw_appc.output.samples,
    **{t: f"results/figures/{t}.csv" for t in SCORED_SIMULATIONS},
}
# The runs each measured target read, with their status: its claims leave out and name the runs that diverged (the
# tables' runs and the figures' curves carry their status themselves).
READ_RUNS = {
    "yt_fig6": rules.yt_fig6.output.runs,
    **{
        t: getattr(rules, t).output.runs
        for t in ("yt_table3", "yt_fig3", "yt_fig7", "yt_fig10", "yt_fig12", "yt_cushion_full", "lw_appc")
    },
}


rule scorecard:
    input:
        summaries=[f"results/tables/{t}.csv" for t in [*TABLES, *MEASURED_TABLES]],
        figures=[f"results/figures/{t}.csv" for t in SUMMARISED_FIGURES],
        claims=[f for files in CLAIM_DATA.values() for f in ([files] if isinstance(files, str) else files)],
        runs=list(READ_RUNS.values()),
        data=DATA.replace(".pt", ".json"),
    output:
        report("results/scorecard.md", caption="../report/caption.rst", category="Scorecard"),
    log:
        "results/logs/scorecard.log",
    localrule: True
    params:
        summaries=[*TABLES, *MEASURED_TABLES],
        figures=SUMMARISED_FIGURES,
        # plain strings: a rule's output file carries its rule, which a script's params cannot pickle
        claims={
            t: [str(files)] if isinstance(files, str) else [str(f) for f in files] for t, files in CLAIM_DATA.items()
        },
        runs={t: str(f) for t, f in READ_RUNS.items()},
        specs={**C["figures"], **C["measures"]},  # the simulations' claims need only their data
        claims_config=C["claims"],
        caption="Every published number of the built targets beside ours, and each claim with its effect, its "
        "standard error over seeds and its verdict.",
        config={k: C[k] for k in ("scale", "data_source")},
    script:
        "../scripts/scorecard.py"
