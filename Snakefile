# plainres: reproduces Yu & Tomasi and Littwin & Wolf from one command. See README.md.
import os
import shlex
import sys

import torch
from snakemake.utils import min_version

from plainres import bundle, configuration, grid, targets
from plainres.runfolder import GroupFolder
from plainres.targets import TARGETS

min_version("8.0")

# Snakemake puts the Python executable into a shell command unquoted, to start a job and to run its script
# (Snakemake issues #2645, #3211): in a project whose path holds a space, the first job fails. Quoted once here,
# in each Snakemake process (a path that exists is not quoted yet).
if os.path.exists(sys.executable):
    sys.executable = shlex.quote(sys.executable)

# Every job that runs a script logs its stderr (progress, warnings, the error and its traceback) to
# results/logs/<rule>[/<wildcards>].log; profiles/default/config.yaml (show-failed-logs) prints a failed job's log.
# `snakemake --lint` finds one thing, on purpose: "Specify a conda environment or container for each rule". Every
# job runs in the one environment `make install` builds with pip (pyproject.toml; torch as the Makefile's TORCH
# picks it), on a SLURM node too; Snakemake cannot switch a lint off, so .ci/run accepts this one and no other.


# A YAML error in config.yaml named with its line and column (Snakemake's own message gives neither), and an
# override of an experiment config.yaml does not define, before anything is merged.
configuration.check_overrides(
    configuration.load_yaml(os.path.join(workflow.basedir, "config.yaml")), workflow.config_settings.overwrite_config
)


configfile: os.path.join(workflow.basedir, "config.yaml")


# The effective config: config.yaml, the scale's patch, then what the command line gave.
# Validated before any job runs; every rule reads C, never the raw `config`.
C = configuration.resolve(config, workflow.config_settings.overwrite_config, checked=False)
configuration.validate(C, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"))
configuration.check(C)
configuration.check_data_sources(C)


report: "workflow/report/workflow.rst"


# `threads: ALL_CORES`: every core Snakemake is given (it caps threads at --cores). Not `workflow.cores`,
# which fails where no --cores is given: `snakemake --report`, a dry run.
ALL_CORES = 1024


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/bundle.smk"
include: "workflow/rules/targets.smk"
include: "workflow/rules/scorecard.smk"
include: "workflow/rules/study.smk"


rule all:
    default_target: True
    input:
        [getattr(rules, name).output for name in TARGETS],
        rules.scorecard.output,
