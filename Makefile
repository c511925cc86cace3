# Entry points: `make demo` (service with demo data), `make test` (the whole suite),
# `make test-fast` (the developer loop) and `make lint` (the quality gate CI runs first).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export KBSVC_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test test-fast install install-dev system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

# torch first: a pinned CPU wheel, so nothing later pulls the CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install torch==2.13.0
	$(BIN)/pip install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

system-deps:
	bash scripts/system-deps.sh

demo: install
	bash scripts/system-deps.sh fonts
	KBSVC_PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/kbsvc demo
	KBSVC_PUBLIC_BASE_URL=http://$(HOST):$(PORT) $(BIN)/kbsvc serve --host $(HOST) --port $(PORT)

test: install-dev
	bash scripts/system-deps.sh all
	bash scripts/run-tests.sh

# Developer loop: SQLite only, no browser/slow/postgres tests, stop at the first failure,
# last failures first. Narrow it further with ARGS, e.g. `make test-fast ARGS=tests/indexer`.
test-fast: install-dev
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 KBSVC_TEST_DATABASE_URL= $(BIN)/python -m pytest \
	  -x -q --ff -m "not (browser or slow or postgres)" $(ARGS)

# ruff check, ruff format --check, mypy (strict for indexer/ and embeddings/), import contract.
lint: install-dev
	KBSVC_BIN=$(BIN) bash scripts/lint.sh

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf var artifacts .pytest_cache
