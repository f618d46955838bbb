# The two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1
# Deployed through S3 (CloudFormation): only the 250 MiB unzipped limit binds (docs/DEPLOY.md).
export S3_ONLY ?= 1

.PHONY: export-images web-screenshots run run-dynamodb test test-setup system-deps setup lint typecheck unit api integration e2e clean sync-questionnaires bench bench-dynamodb bench-dynamodb-writes package

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# system packages the tests drive (chromium, poppler-utils, LibreOffice Calc, Java 17, npm), installed if missing
system-deps:
	bash scripts/system-deps.sh

setup: $(BIN)/.installed

test-setup: system-deps setup node_modules/.installed sync-questionnaires

# Chalice deploys only app.py and chalicelib/: the questionnaires are copied in before any
# local run or package so the deployed app finds them (chalicelib/questionnaires is ignored by git).
sync-questionnaires: setup
	mkdir -p chalicelib/questionnaires
	rm -f chalicelib/questionnaires/*.yaml chalicelib/questionnaires/*.json
	cp questionnaires/*.yaml chalicelib/questionnaires/
	$(BIN)/python -m chalicelib.cli compile chalicelib/questionnaires

# no autoreload: it would restart the server on every write to data/ and drop requests
run: setup sync-questionnaires
	$(BIN)/python -m chalicelib.cli check
	$(BIN)/python -m chalicelib.cli seed-reference
	$(BIN)/chalice local --no-autoreload --host $(HOST) --port $(PORT) --stage local

# for development: restarts when the code changes (not on writes to data/ or build output)
.PHONY: dev
dev: setup sync-questionnaires
	$(BIN)/python -m chalicelib.cli check
	$(BIN)/python -m chalicelib.cli seed-reference
	$(BIN)/python scripts/dev_server.py --host $(HOST) --port $(PORT) --stage local

# the same API on Amazon DynamoDB Local (needs Java 17 and npm; data kept in memory)
run-dynamodb: system-deps setup node_modules/.installed sync-questionnaires
	$(BIN)/python scripts/run_dynamodb.py

bench-dynamodb: setup
	$(BIN)/python bench/bench_dynamodb.py

package: setup
	scripts/package.sh

# performance figures (docs/PERFORMANCE.md); builds the package to time its cold start
bench: setup node_modules/.installed package
	$(BIN)/python bench/run.py
	$(BIN)/python bench/dynamodb_writes.py

# write units per submission before/after issue 15 on DynamoDB Local (docs/PERFORMANCE.md)
bench-dynamodb-writes: setup node_modules/.installed
	$(BIN)/python bench/dynamodb_writes.py

# the screenshots in docs/WEB.md (Playwright + Debian's Chromium against a local server)
web-screenshots: setup sync-questionnaires
	$(BIN)/python scripts/web_screenshots.py

# the rendered report pages shown in docs/EXPORTS.md (docs/images/exports/*.png)
export-images: setup sync-questionnaires
	$(BIN)/python scripts/export_images.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m chalicelib.cli check

typecheck: setup
	$(BIN)/mypy chalicelib app.py

unit: setup
	$(BIN)/pytest -q tests/unit

api: setup
	$(BIN)/pytest -q tests/api

integration: setup node_modules/.installed
	$(BIN)/pytest -q tests/integration

e2e: test-setup
	$(BIN)/pytest -q tests/e2e

# bounded schemathesis pass (every operation, every check, a partner key) on a live chalice
# local; FUZZ_EXAMPLES per operation (default 10, ~2 minutes on 2 cores); reports in artifacts/
.PHONY: fuzz
fuzz: setup sync-questionnaires
	$(BIN)/python -m tests.e2e.fuzz --max-examples $(or $(FUZZ_EXAMPLES),10) --report-dir artifacts/schemathesis

test: test-setup lint typecheck
	$(BIN)/pytest -q tests

clean:
	rm -rf $(VENV) data build artifacts chalicelib/questionnaires .pytest_cache .hypothesis
