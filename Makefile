# Quick start: `make run` (embedded stack with sample data) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-unit test-integration test-e2e bench schemas mutation lock clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/tindaklanjut run

test: $(STAMP)
	$(BIN)/python tests/check_postgres.py
	$(BIN)/python -m pytest -q

test-unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

test-integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

test-e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

schemas: $(STAMP)
	$(BIN)/tindaklanjut schemas

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Pin the runtime dependencies for the container image (deploy/requirements.lock): a clean
# `pip install .` in a throwaway virtualenv, frozen.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet .
	{ sed -n '1,/^# (tests/p' deploy/requirements.lock; .venv-lock/bin/python -m pip freeze --exclude tindaklanjut; } \
		> deploy/requirements.lock.new && mv deploy/requirements.lock.new deploy/requirements.lock
	rm -rf .venv-lock

# Mutation testing of the domain and the service layer (slow: not part of `make test`; docs/testing.md).
# Its own virtualenv: mutmut 3.8 needs click >= 8.4.2, faust-streaming pins click < 8.4.
mutation:
	test -x .venv-mutation/bin/python || $(PYTHON) -m venv .venv-mutation
	.venv-mutation/bin/python -m pip install --quiet -e ".[test]"
	# A second step on purpose: mutmut's newer click replaces faust's pin (the unit tests do not run faust).
	.venv-mutation/bin/python -m pip install --quiet "mutmut==3.8.1"
	rm -rf mutants
	.venv-mutation/bin/mutmut run --max-children 2 || true
	.venv-mutation/bin/python tests/mutation_score.py

clean:
	rm -rf $(VENV) .venv-mutation mutants var .pytest_cache
