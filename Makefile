# huizong — two commands: `make demo` and `make test`. Everything else is optional.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || echo python3.11)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo ui test browser lint bench stack-test fault-test lock clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

install: $(STAMP)  ## create .venv (Python 3.11) with the pinned dependencies

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

demo: $(STAMP)  ## run the whole pipeline once through Airflow on embedded defaults
	$(BIN)/huizong demo

ui: $(STAMP)  ## Airflow UI + scheduler on the demo's Airflow home (http://127.0.0.1:8080)
	$(BIN)/huizong ui

test: $(STAMP) browser  ## run the test suite (CI runs exactly this)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

browser:  ## Debian's chromium and a CJK font for the browser test (apt-get, only when missing)
	@bash scripts/install-browser.sh

lint: $(STAMP)  ## ruff (with the AIR rules) and sqlfluff
	$(BIN)/ruff check dags plugins include tests bench
	$(BIN)/sqlfluff lint sql

bench: $(STAMP)  ## benchmarks: extraction, parsing, warehouse load, quality
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

stack-test: $(STAMP)  ## CeleryExecutor stack as processes on loopback (PostgreSQL + Redis)
	HUIZONG_STACK_TEST=1 $(BIN)/python -m pytest -m stack tests/test_stack.py $(PYTEST_ARGS)

fault-test: $(STAMP)  ## faults injected into the loopback stack: worker kill, Redis outage, PostgreSQL restart
	$(BIN)/python -m pytest -m fault -s tests/faults/test_stack_faults.py $(PYTEST_ARGS)

LOCK_VENV := $(VENV)-lock

lock:  ## re-pin requirements.lock (run time) and requirements-dev.lock (tests) from the .in files
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24" setuptools
	$(LOCK_VENV)/bin/python -m pip install --quiet -r requirements.in
	$(LOCK_VENV)/bin/python -m pip freeze --all | grep -vE '^pip==' > requirements.lock
	$(LOCK_VENV)/bin/python -m pip install --quiet -c requirements.lock -r requirements-dev.in
	$(LOCK_VENV)/bin/python -m pip freeze --all | grep -vE '^pip==' \
		| grep -vxFf requirements.lock > requirements-dev.lock
	rm -rf $(LOCK_VENV)

clean:  ## remove the demo's data and Airflow home (keeps .venv)
	rm -rf var airflow_home test-artifacts
