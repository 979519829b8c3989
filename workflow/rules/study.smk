# The scale study: how much training each training claim needs before it shows (not part of `all`: it trains
# its own settings, config.yaml `scale_study`).
STUDY = {name: name.split("_", 2)[1:] for name in C["experiments"] if configuration.is_study(name)}  # → (setting, read)


rule scale_study_measures:
    input:
        done=[done for name in STUDY for done in groups_done(name)],
        data=DATA,
    output:
        csv="results/measures/scale_study/measured.csv",
    log:
        "results/logs/scale_study_measures.log",
    benchmark:
        "results/benchmarks/scale_study_measures.tsv"
    localrule: True
    threads: ALL_CORES
    params:
        experiments=STUDY,
        done={name: groups_done(name) for name in STUDY},
        measures=configuration.study_specs(C),
        images=C["scale_study"]["images"],
        caption="Scale study, measured claims: Fig 3's layer cushion, Fig 12's σ, the interlayer cushion (§4) and "
        "LW App. C's BN-absorbed conv norms, each with its target's parameters (config.yaml measures) over the first "
        "scale_study.images training images, at every snapshot epoch of the study's runs.",
        config={k: C[k] for k in ("scale", "dataset", "data_source", "train", "scale_study")},
    script:
        "../scripts/scale_study_measures.py"


rule scale_study:
    input:
        done=[done for name in STUDY for done in groups_done(name)],
        measured=rules.scale_study_measures.output.csv,
    output:
        png=report("results/figures/scale_study.png", caption="../report/caption.rst", category="Scale study"),
        pdf="results/figures/scale_study.pdf",
        csv="results/figures/scale_study.csv",
        summary="results/tables/scale_study.csv",
        curves="results/measures/scale_study/curves.csv",
    log:
        "results/logs/scale_study.log",
    localrule: True
    params:
        experiments=STUDY,
        done={name: groups_done(name) for name in STUDY},
        study={**C["scale_study"], "yt_fig9": C["figures"]["yt_fig9"]},
        caption="Scale study: for each training claim, its effect in standard errors over seeds (seed-paired, as the "
        "scorecard weighs it) after every epoch of each setting (config.yaml scale_study), against the SGD steps taken; "
        "the measured claims (Fig 3, Fig 12, the interlayer cushion, LW App. C) at every snapshot epoch, Fig 12's σ "
        "on the minibatch the run drew next; a claim holds above +2 se with at least 3 seeds. The table gives the "
        "steps from which each claim holds until the end of the setting.",
        config={k: C[k] for k in ("scale", "dataset", "data_source", "train", "scale_study")},
    script:
        "../scripts/scale_study.py"
