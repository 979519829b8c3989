# Results bundles (plainres.bundle, docs/bundles.md). `make bundle`: every training job of this config, each run
# file verified, as one deterministic archive with its manifest. `runs_source`: the training jobs a bundle holds
# are imported in place of training (the rule import_runs, preferred to train for their done.json); the rest
# train here. The bundle is fetched and its manifest read when the workflow is planned, so a dry run shows what it
# gives, and a bundle of another config or one that would replace runs trained here is refused before any job.


rule bundle:
    input:
        done=TARGET_DONE,
        data=sorted({data_file(g.experiment) for g in grid.target_groups(C).values()}),
    output:
        archive=bundle.archive_path(C["scale"]),
        manifest=bundle.manifest_path(C["scale"]),
    log:
        "results/logs/bundle.log",
    benchmark:
        "results/benchmarks/bundle.tsv"
    localrule: True
    params:
        config=C,
    script:
        "../scripts/bundle.py"


if C["runs_source"]:
    IMPORT = bundle.plan(C)

    if IMPORT.groups:

        rule import_runs:
            input:
                archive=str(IMPORT.archive),
                data=[grid.data_file(C, d) for d in IMPORT.datasets()],
            output:
                done=IMPORT.done(),
            log:
                "results/logs/import_runs.log",
            benchmark:
                "results/benchmarks/import_runs.tsv"
            localrule: True
            params:
                source=lambda wildcards: C["runs_source"],  # as given: a URL, or the archive's own path
                groups=IMPORT.groups,
                datasets=IMPORT.datasets(),
                overwrite=C["runs_overwrite"],
            script:
                "../scripts/import_runs.py"

        ruleorder: import_runs > train
