# Two entry points: `make demo` (service with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export KBSVC_DATA_DIR ?= $(CURDIR)/var

.PHONY: demo test install install-dev system-deps lint bench clean

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

lint: install-dev
	$(BIN)/ruff check kbsvc indexer embeddings api tests bench

bench: install
	$(BIN)/python -m bench.run_all

clean:
	rm -rf var artifacts .pytest_cache
