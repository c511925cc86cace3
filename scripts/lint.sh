#!/usr/bin/env bash
# The quality gate (`make lint`, CI): ruff lint, ruff format check, mypy (settings in
# pyproject.toml: strict for indexer/ and embeddings/) and the import-layer contract.
# Runs every check even after a failure, so one run shows everything to fix.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN="${KBSVC_BIN:-.venv/bin}"  # KBSVC_BIN: another environment's bin directory with the tools
PATHS=(kbsvc indexer embeddings api tests bench scripts)
failed=()
check() {
  local name="$1"; shift
  echo "== $name"
  if "$@"; then echo "ok: $name"; else failed+=("$name"); fi
}
check "ruff check" "$BIN/ruff" check "${PATHS[@]}"
check "ruff format" "$BIN/ruff" format --check "${PATHS[@]}"
check "mypy" "$BIN/mypy"
check "import contract" "$BIN/lint-imports"
if [ ${#failed[@]} -gt 0 ]; then
  echo "lint failed: ${failed[*]}" >&2
  exit 1
fi
echo "lint passed"
