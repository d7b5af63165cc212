# Integrationsatlas NRW – the two commands of the README:
#   make run    set up .venv and start the app   (http://localhost:8501)
#   make test   set up .venv (+ Debian chromium for the browser tests) and run all tests

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup browser lint bench data clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(BIN)/streamlit run app.py

browser:
	@bash scripts/ensure-chromium.sh

test: setup browser
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check geo planning ui integrationsatlas tests benchmarks app.py
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/run_all.py

data: setup
	$(BIN)/python -m scripts.databuild

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache static
