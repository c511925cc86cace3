#!/usr/bin/env bash
# Runs the whole suite: SQLite first, then the database-facing tests against a real PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
mkdir -p artifacts
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"$BIN/python" -m pytest "$@"
