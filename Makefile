# Kyoso — build, run and test.
#
#   make install   create .venv and install kyoso (+dev extras); fast no-op when up to date
#   make browser   make sure Debian's chromium is installed (Playwright uses /usr/bin/chromium)
#   make run       seed demo data if empty, then serve on http://$(HOST):$(PORT)
#   make test      full test suite (PYTEST_ARGS=..., PYTEST_XDIST= for a serial run)
#   make bench     benchmarks
#   make lint      ruff
#   make messages  gather UI messages (Babel) and merge them into each language's catalogue
#   make clean     caches and build artefacts (distclean: also .venv)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON        ?= python3
VENV          := .venv
BIN           := $(VENV)/bin
STAMP         := $(VENV)/.installed
TORCH_VERSION ?= 2.13.0
CHROMIUM      ?= /usr/bin/chromium

DATA_DIR ?= .data
HOST     ?= 127.0.0.1
PORT     ?= 8000

# Tests: each xdist worker starts its own throwaway PostgreSQL on a free port, so
# running in parallel is safe; --dist loadfile keeps a module's tests (and its
# module-scoped fixtures) on one worker.  PYTEST_XDIST= runs serially.
PYTEST_XDIST ?= -n 2 --dist loadfile
PYTEST_ARGS  ?=
TEST_LOG     ?= .cache/pytest.log
BENCH_ARGS   ?=

# No network except package registries: never let HF libraries phone home.
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help install browser run test bench lint messages clean distclean

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# ---------------------------------------------------------------- install

install: $(STAMP)
	@if [ ! -x $(BIN)/kyoso ]; then \
	  echo ">> $(BIN)/kyoso missing: reinstalling"; rm -f $(STAMP); \
	  $(MAKE) --no-print-directory $(STAMP); \
	fi
	@test -x $(BIN)/kyoso || { echo "ERROR: $(BIN)/kyoso was not created" >&2; exit 1; }
	@gpu=$$(ls $(VENV)/lib/python3*/site-packages 2>/dev/null | grep -iE '^nvidia[-_]' || true); \
	if [ -n "$$gpu" ]; then \
	  echo "ERROR: GPU (CUDA) packages found in $(VENV) — torch was not installed from the CPU wheel:" >&2; \
	  echo "$$gpu" | sed 's/^/    /' >&2; \
	  echo "Fix: make distclean && make install  (torch==$(TORCH_VERSION) must be installed first)" >&2; \
	  exit 1; \
	fi

# Rebuilt when pyproject.toml changes (or the venv is gone).
$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
	  echo ">> creating $(VENV)"; $(PYTHON) -m venv $(VENV); \
	fi
	@if $(BIN)/python -c "import importlib.metadata as m, sys; \
	    sys.exit(m.version('torch').split('+')[0] != '$(TORCH_VERSION)')" 2>/dev/null; then \
	  echo ">> torch $(TORCH_VERSION) already installed"; \
	else \
	  echo ">> installing torch==$(TORCH_VERSION) (CPU wheel) first"; \
	  $(BIN)/pip install 'torch==$(TORCH_VERSION)'; \
	fi
	@echo 'torch==$(TORCH_VERSION)' > $(VENV)/constraints.txt
	@echo ">> pip install -e '.[dev]'"
	$(BIN)/pip install -c $(VENV)/constraints.txt -e '.[dev]'
	@if $(BIN)/pip list --format=freeze | grep -iE '^nvidia[-_]'; then \
	  echo "ERROR: the packages above are CUDA/GPU packages; they must not be installed." >&2; \
	  echo "Fix: make distclean && make install" >&2; \
	  exit 1; \
	fi
	@touch $@

# ---------------------------------------------------------------- browser

browser:
	@if [ -x $(CHROMIUM) ]; then \
	  echo ">> chromium: $$($(CHROMIUM) --version 2>/dev/null | head -n1)"; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo ">> installing Debian chromium"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -q && apt-get install -y -q --no-install-recommends chromium; \
	  test -x $(CHROMIUM) || { echo "ERROR: apt installed chromium but $(CHROMIUM) is missing" >&2; exit 1; }; \
	else \
	  echo "ERROR: $(CHROMIUM) not found. Browser tests need Debian's chromium" >&2; \
	  echo "       (Playwright cannot download browsers here). Run as root:" >&2; \
	  echo "         apt-get update && apt-get install -y --no-install-recommends chromium" >&2; \
	  exit 1; \
	fi

# ---------------------------------------------------------------- run / test / bench

run: install
	$(BIN)/kyoso demo --if-empty --data-dir $(DATA_DIR)
	$(BIN)/kyoso serve --data-dir $(DATA_DIR) --host $(HOST) --port $(PORT)

test: install browser
	@mkdir -p $(dir $(TEST_LOG))
	@status=0; \
	PYTHONPATH=$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH} \
	  $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_XDIST) $(PYTEST_ARGS) 2>&1 \
	  | tee $(TEST_LOG) || status=$$?; \
	summary=$$(grep -E '^(=+ )?[0-9]+ (passed|failed|error|errors|skipped|deselected)|no tests ran' $(TEST_LOG) | tail -n1); \
	echo; echo "== pytest: $${summary:-no summary line (see $(TEST_LOG))} (exit $$status)"; \
	exit $$status

# The postgres figures run on a throwaway server that the test support module starts, hands to
# the command as KYOSO_BENCH_DATABASE_URL, and stops; `kyoso bench` alone runs the SQLite ones.
bench: install
	$(BIN)/python -m tests.support.postgres -- $(BIN)/kyoso bench $(BENCH_ARGS)

# Japanese in the templates and code is the source; web/locale/en/LC_MESSAGES/messages.po holds the English.
messages: install
	$(BIN)/pybabel -q extract -F babel.cfg -k N_ --project=Kyoso --version=1 --no-location --sort-output --omit-header -o web/locale/messages.pot .
	$(BIN)/pybabel -q update -i web/locale/messages.pot -d web/locale -l en --no-fuzzy-matching --omit-header --ignore-obsolete

lint: install
	$(BIN)/ruff check .

# ---------------------------------------------------------------- clean

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .cache/pytest.log
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
