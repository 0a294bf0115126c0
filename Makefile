PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast bench lint format clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: setup
	$(BIN)/ostiary demo

# Tests run on every core, a test file per worker (module fixtures start their servers once).
test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

test-fast: setup
	$(BIN)/pytest -m "not e2e"

# make bench [BENCH="token peers"] [QUICK=1]: one table, bench/results/latest.{json,png}
bench: $(VENV)/.bench-installed
	OSTIARY_RATE_LIMITS=off $(BIN)/python bench/run_all.py $(if $(QUICK),--quick) $(BENCH)

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"
	touch $@

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
