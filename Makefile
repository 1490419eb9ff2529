# omnicrm — the two commands a newcomer needs are `make demo` and `make test`.
# Everything is installed into .venv by these targets; nothing needs to be installed by hand.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_OUT ?= demo-output
PYTEST_ARGS ?=

.PHONY: demo test lint bench docs clean help

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# One stamp per set of extras, redone whenever pyproject.toml changes.
$(VENV)/.stamp-base: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,spark]'
	@touch $@ $(VENV)/.stamp-base

$(VENV)/.stamp-bench: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,bench]'
	@touch $@ $(VENV)/.stamp-base

demo: $(VENV)/.stamp-base  ## generate a synthetic retailer, ingest it, write $(DEMO_OUT)/report.html
	$(BIN)/omnicrm demo --out $(DEMO_OUT)

test: $(VENV)/.stamp-test  ## lint, then run the whole test suite
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.stamp-test  ## ruff only (rules and formatting; 'ruff format' fixes the latter)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)/.stamp-bench  ## run the benchmarks (ratios to same-process baselines)
	$(BIN)/python benchmarks/run_all.py

docs: $(VENV)/.stamp-base  ## regenerate docs/data-model.md from the data contract
	$(BIN)/python -m omnicrm.schema.docs > docs/data-model.md

clean:  ## remove the virtualenv and generated files
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache omnicrm.duckdb
