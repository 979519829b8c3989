# The scorecard: every published number beside ours, and each claim weighed against its seeds; what it reads
# follows from the target registry (plainres.targets): the published tables' summaries and the plotted numbers of
# the figures with a published summary, for each scored target the files its claims weigh (its runs, curves or
# measurements; the plotted numbers for the exact checks and the simulations), and the runs read by each target
# whose claims weigh another file (its claims name those that diverged).
SCORED = {t.name: targets.weighed_files(t) for t in targets.scored()}
SUMMARIES = [t.name for t in targets.published_tables()]
SUMMARISED_FIGURES = [t.name for t in targets.published_figures()]
READ_RUNS = targets.runs_files()


rule scorecard:
    input:
        summaries=[TARGETS[t].outputs()["csv"] for t in SUMMARIES],
        figures=[TARGETS[t].outputs()["csv"] for t in SUMMARISED_FIGURES],
        claims=[f for files in SCORED.values() for f in files],
        runs=list(READ_RUNS.values()),
        data=DATA.replace(".pt", ".json"),
        done=TARGET_DONE,
    output:
        report("results/scorecard.md", caption="../report/caption.rst", category="Scorecard"),
    log:
        "results/logs/scorecard.log",
    localrule: True
    params:
        summaries=SUMMARIES,
        figures=SUMMARISED_FIGURES,
        claims=SCORED,
        runs=READ_RUNS,
        specs={t.name: t.spec(C) for t in targets.scored()},
        claims_config=C["claims"],
        caption="Every published number of the built targets beside ours, and each claim with its effect, its "
        "standard error over seeds and its verdict.",
        config={k: C[k] for k in ("scale", "data_source")},
    script:
        "../scripts/scorecard.py"
