# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test setup lint typecheck unit api integration e2e clean sync-questionnaires

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(BIN)/.installed

# Chalice deploys only app.py and chalicelib/: the questionnaires are copied in before any
# local run or package so the deployed app finds them (chalicelib/questionnaires is ignored by git).
sync-questionnaires:
	mkdir -p chalicelib/questionnaires
	rm -f chalicelib/questionnaires/*.yaml
	cp questionnaires/*.yaml chalicelib/questionnaires/

run: setup sync-questionnaires
	$(BIN)/python -m chalicelib.cli check
	$(BIN)/python -m chalicelib.cli seed-reference
	$(BIN)/chalice local --host $(HOST) --port $(PORT) --stage local

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m chalicelib.cli check

typecheck: setup
	$(BIN)/mypy chalicelib

unit: setup
	$(BIN)/pytest -q tests/unit

api: setup
	$(BIN)/pytest -q tests/api

integration: setup
	$(BIN)/pytest -q tests/integration

e2e: setup sync-questionnaires
	$(BIN)/pytest -q tests/e2e

test: setup sync-questionnaires lint typecheck
	$(BIN)/pytest -q tests

clean:
	rm -rf $(VENV) data build artifacts chalicelib/questionnaires .pytest_cache .hypothesis
