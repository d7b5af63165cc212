# Integrationsatlas NRW – the two commands of the README:
#   make run    set up .venv and start the app   (http://localhost:8501)
#   make test   set up .venv (+ Debian chromium and poppler-utils for the tests) and run all tests
# For the edit loop: make test-fast (tests under about 1.5 s: no browser, no slow, no real data; two workers; < 2 min).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-fast setup tools lint format bench data clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/streamlit run app.py

tools:
	@bash scripts/ensure-test-tools.sh

test: setup tools
	$(BIN)/python tests/axe_support.py
	$(BIN)/python -m pytest

test-fast: setup
	INTEGRATIONSATLAS_TEST_FAST=1 $(BIN)/python -m pytest -q -n 2 -m "not browser and not slow and not shared"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# the browser tests write screenshots into the git-ignored test-results/screenshots/; copy them into docs/ on purpose
screenshots:
	bash scripts/copy-screenshots.sh

bench: setup
	$(BIN)/python benchmarks/run_all.py

data: setup
	$(BIN)/python -m scripts.databuild

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache static
