#!/usr/bin/env bash
# The long variants (`make fuzz`, `make soak`): the given test paths on SQLite, then on a
# throwaway PostgreSQL the same way scripts/run-tests.sh picks database-facing tests (all of
# tests/api and tests/kbsvc, elsewhere only those marked `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${KBSVC_PYTHON:-.venv/bin/python}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset KBSVC_TEST_DATABASE_URL
[ $# -gt 0 ] || { echo "usage: $0 TEST_PATH..." >&2; exit 2; }

echo "== SQLite: $*"
"$PY" -m pytest -p no:cacheprovider -rA "$@"

if [ "${KBSVC_SKIP_POSTGRES:-0}" = "1" ]; then
  echo "== PostgreSQL: skipped (KBSVC_SKIP_POSTGRES=1)"; exit 0
fi
core=(); others=()
for p in "$@"; do
  case "$p" in tests/api*|tests/kbsvc*) core+=("$p") ;; *) others+=("$p") ;; esac
done
echo "== PostgreSQL"
eval "$(bash scripts/pg-test-server.sh start)"
trap 'bash scripts/pg-test-server.sh stop "$KBSVC_PG_DIR"' EXIT
if [ ${#core[@]} -gt 0 ]; then
  "$PY" -m pytest -p no:cacheprovider -rA -m "postgres or not browser" "${core[@]}"
fi
if [ ${#others[@]} -gt 0 ]; then
  "$PY" -m pytest -p no:cacheprovider -rA -m postgres "${others[@]}"
fi
