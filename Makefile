# Two entry points: `make verify` (the main job) and `make test` (the test suite).
# Each creates .venv if missing and installs the project with its dev extras.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: verify test lint typecheck install clean bench-setup bench browser

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts examples
	$(BIN)/ruff format --check src tests scripts examples

typecheck: $(STAMP)
	$(BIN)/mypy

# The dashboard's browser tests use Debian's chromium; the script installs it where it can
# (root + apt) and otherwise says why the browser tests will skip.
browser:
	-bash scripts/setup-browser.sh

test: $(STAMP) lint typecheck browser
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

verify: $(STAMP)
	$(BIN)/ringq verify

# Benchmarks (not part of `make test`): peers live in their own venv, .venv-bench.
bench-setup:
	$(PY) scripts/bench.py --setup

bench: bench-setup
	.venv-bench/bin/python scripts/bench.py --quick

clean:
	rm -rf $(VENV) .venv-bench bench-results .ringq .pytest_cache .mypy_cache .ruff_cache .hypothesis
