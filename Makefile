# Two commands on a fresh machine:  `make reproduce`  (the book)  and  `make test`  (the tests).
# PROFILE=smoke|laptop|scarce|paper picks the scale; FORCE=1 recomputes stored results; EXECUTOR=local|processes|submitit
# runs the training sweeps (processes: one worker per GPU, or per CPU core).
PROFILE ?= laptop
FORCE ?=
EXECUTOR ?= processes
DATADIET_DATA_ROOT ?= $(abspath ../shared/data)
export DATADIET_DATA_ROOT

CONDA := $(shell command -v conda 2>/dev/null)
ifdef CONDA
ENV_DIR := $(CURDIR)/.conda-env
PY := $(ENV_DIR)/bin/python
$(PY): environment.yml requirements.txt
	conda env create --prefix $(ENV_DIR) --file environment.yml --yes
	touch $(PY)
else
ENV_DIR := $(CURDIR)/.venv
PY := $(ENV_DIR)/bin/python
$(PY): requirements.txt pyproject.toml
	python3.11 -m venv $(ENV_DIR) 2>/dev/null || python3 -m venv $(ENV_DIR)
	$(ENV_DIR)/bin/pip install --quiet -r requirements.txt
	$(ENV_DIR)/bin/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(PY)
endif

.PHONY: env reproduce book test lint benchmark clean-book

env: $(PY)

reproduce: $(PY)
	$(PY) -m analysis reproduce --profile $(PROFILE) --executor $(EXECUTOR) $(if $(FORCE),--force,)

book: $(PY)
	$(PY) -c "from analysis.reproduce import build_book; print(build_book() / 'index.html')"

test: $(PY)
	$(PY) -m ruff check analysis tests benchmarks notebooks
	$(PY) -m pytest

benchmark: $(PY)
	$(PY) benchmarks/throughput.py
	$(PY) benchmarks/scores.py

clean-book:
	rm -rf _build
