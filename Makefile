# Two entry points that work on a fresh machine: `make run` (the pipeline, then its HTML report)
# and `make test`. Both install into .venv on first use. TORCH picks the torch build (a CUDA machine may keep
# its own: make TORCH=torch); CONFIG passes Snakemake config overrides. `make run` first removes the lock a
# killed controller left (only when no Snakemake runs here: plainres.lock). `make retrain RUN=<run folder or a
# file in it>` trains that run's seed group again from scratch, then runs the pipeline (plainres.retrain).
PYTHON ?= python3
TORCH ?= torch==2.13.0
CORES ?= 2
CONFIG ?=
TARGET ?= all
PYTEST_ARGS ?=
VENV := .venv
STAMP := $(VENV)/.installed

SNAKEMAKE = $(VENV)/bin/snakemake --cores $(CORES)
# --config takes every word after it, so it comes last
CONFIG_ARGS = $(if $(CONFIG),--config $(CONFIG))

.PHONY: run report test install clean-venv retrain

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q "$(TORCH)"
	$(VENV)/bin/python -m pip install -q -e ".[pipeline,cluster,test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m plainres.lock
	$(SNAKEMAKE) $(TARGET) $(CONFIG_ARGS)
	$(SNAKEMAKE) $(TARGET) --report results/report.html $(CONFIG_ARGS)

report: $(STAMP)
	$(SNAKEMAKE) $(TARGET) --report results/report.html $(CONFIG_ARGS)

retrain: $(STAMP)
	@test -n "$(RUN)" || { echo 'make retrain RUN=<run folder, group folder, or a file in one> [CONFIG=…]'; exit 2; }
	$(VENV)/bin/python -m plainres.lock
	groups=$$($(VENV)/bin/python -m plainres.retrain $(RUN)) && $(SNAKEMAKE) $$groups $(CONFIG_ARGS)
	$(MAKE) -o $(STAMP) run  # the pipeline; never reinstall .venv here (make does not pass -o on)

test: $(STAMP)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
