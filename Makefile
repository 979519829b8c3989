# Two entry points that work on a fresh machine: `make run` (the pipeline, then its HTML report)
# and `make test`. Both install into .venv on first use. TORCH picks the torch build (a CUDA machine may keep
# its own: make TORCH=torch); CONFIG passes Snakemake config overrides (KEY=VALUE words; quote a value with
# spaces inside it: CONFIG='data_source="/my data/cifar.tar.gz"'). `make run`, `make report` and `make retrain`
# go through plainres.controller: one at a time in this directory; `make run` removes the lock a killed Snakemake
# left, checks every run file, runs the pipeline and writes results/report.html (results/report-<target>.html
# for one TARGET). `make retrain RUN=<run folder or a file in it>` trains that run's seed group again from
# scratch, then runs the pipeline (plainres.retrain). `make bundle` writes the config's runs as one archive for
# others to import with CONFIG="runs_source=<path or URL>" (plainres.bundle).
PYTHON ?= python3
TORCH ?= torch==2.13.0
# every core of this machine unless CORES says otherwise (Snakemake runs as many jobs as their threads fit)
CORES ?= $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
CONFIG ?=
TARGET ?= all
PYTEST_ARGS ?=
VENV := .venv
STAMP := $(VENV)/.installed

# --config takes every word after it, so it comes last
CONTROLLER = $(VENV)/bin/python -m plainres.controller
CONTROL = --target $(TARGET) --cores $(CORES) --config $(CONFIG)

.PHONY: run report test install clean-venv retrain bundle

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q "$(TORCH)"
	$(VENV)/bin/python -m pip install -q -e ".[pipeline,cluster,test]"
	touch $(STAMP)

run: $(STAMP)
	$(CONTROLLER) run $(CONTROL)

report: $(STAMP)
	$(CONTROLLER) report $(CONTROL)

retrain: $(STAMP)
	$(CONTROLLER) retrain "$(RUN)" $(CONTROL)

bundle: $(STAMP)
	$(CONTROLLER) bundle $(CONTROL)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
