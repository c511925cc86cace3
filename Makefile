# Entry points: `make demo` (service with demo data), `make test` (the whole suite),
# `make test-fast` (the developer loop) and `make lint` (the quality gate CI runs first).
# Nightly-style long runs: `make fuzz` (schemathesis, 100 examples per operation) and
# `make soak` (20 random kills per crash test, 60 s of 8 writers + 32 readers), each on SQLite
# and PostgreSQL.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export KBSVC_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test test-fast fuzz soak install install-dev system-deps lint bench clean

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

fuzz: install-dev
	KBSVC_FUZZ_EXAMPLES=$${KBSVC_FUZZ_EXAMPLES:-100} bash scripts/run-long.sh tests/api/test_schemathesis.py

SOAK_TESTS = tests/reliability tests/kbsvc/backup/test_backup_killed.py \
	tests/kbsvc/notify/test_worker_crash.py
soak: install-dev
	bash scripts/system-deps.sh all
	KBSVC_KILLS=$${KBSVC_KILLS:-20} KBSVC_SOAK_SECONDS=$${KBSVC_SOAK_SECONDS:-60} \
	  bash scripts/run-long.sh $(SOAK_TESTS)

# ruff check, ruff format --check, mypy (strict for indexer/ and embeddings/), import contract.
lint: install-dev
	KBSVC_BIN=$(BIN) bash scripts/lint.sh

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf var artifacts .pytest_cache
