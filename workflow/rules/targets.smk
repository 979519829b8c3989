# Every table and figure of the two papers, one rule each, from the target registry (src/plainres/targets.py):
# a target's files follow from its kind and source, and so does its script; each marked for `snakemake --report`.
# From training (from runs and from nets): workflow/scripts/from_training.py runs the target's function over the
# runs its jobs recorded and writes what it makes; simulations: workflow/scripts/simulate.py, no training.

for _target in TARGETS.values():

    rule:
        name:
            _target.name
        input:
            **target_input(_target.name),
        output:
            **target_output(_target.name),
        log:
            f"results/logs/{_target.name}.log",
        benchmark:
            f"results/benchmarks/{_target.name}.tsv"
        localrule: True
        threads: ALL_CORES if _target.parallel else 1
        params:
            target=_target.name,
            spec=_target.spec(C),
            caption=_target.caption,
            config=target_config(_target.name),
            script=_target.script_name(),
        script:
            # formatted when the job runs: a loop's variable would name the last target's script
            "../scripts/{params.script}"


for _target in TARGETS.values():
    for _alias in _target.aliases:  # another name of the same result (YT Fig 8 is Fig 2)

        rule:
            name:
                _alias
            input:
                getattr(rules, _target.name).output,
            localrule: True
