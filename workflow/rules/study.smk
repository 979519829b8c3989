# The scale study: how much training each training claim needs before it shows (not part of `all`: it trains
# its own settings, config.yaml `scale_study`).
STUDY = {name: name.split("_", 2)[1:] for name in C["experiments"] if grid.is_study(name)}  # → (setting, read)


rule scale_study:
    input:
        done=[done for name in STUDY for done in groups_done(name)],
    output:
        png=report("results/figures/scale_study.png", caption="../report/caption.rst", category="Scale study"),
        pdf="results/figures/scale_study.pdf",
        csv="results/figures/scale_study.csv",
        summary="results/tables/scale_study.csv",
        curves="results/measures/scale_study/curves.csv",
    params:
        experiments=STUDY,
        done={name: groups_done(name) for name in STUDY},
        study={**C["scale_study"], "yt_fig9": C["figures"]["yt_fig9"]},
        caption="Scale study: for each training claim, its effect in standard errors over seeds (seed-paired, as the "
        "scorecard weighs it) after every epoch of each setting (config.yaml scale_study), against the SGD steps taken; "
        "a claim holds above +2 se with at least 3 seeds. The table gives the steps from which each claim holds "
        "until the end of the setting.",
        config={k: C[k] for k in ("scale", "dataset", "data_source", "train", "scale_study")},
    localrule: True
    script:
        "../scripts/scale_study.py"
