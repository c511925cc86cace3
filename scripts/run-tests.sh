#!/usr/bin/env bash
# Runs the whole suite on SQLite, then the database-facing tests (tests/api, tests/kbsvc and
# everything marked `postgres`) against a throwaway PostgreSQL started on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${KBSVC_PYTHON:-.venv/bin/python}"  # KBSVC_PYTHON: another interpreter with the deps
mkdir -p artifacts
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
unset KBSVC_TEST_DATABASE_URL

echo "== SQLite: whole suite"
"$PY" -m pytest -p no:cacheprovider "$@"

if [ "${KBSVC_SKIP_POSTGRES:-0}" = "1" ]; then
  echo "== PostgreSQL: skipped (KBSVC_SKIP_POSTGRES=1)"; exit 0
fi
echo "== PostgreSQL: database-facing tests"
eval "$(bash scripts/pg-test-server.sh start)"
trap 'bash scripts/pg-test-server.sh stop "$KBSVC_PG_DIR"' EXIT
# Slow tests stay in: fuzzing on PostgreSQL reaches errors SQLite never raises (integer range,
# strict types); browser tests do not depend on the database engine.
"$PY" -m pytest -p no:cacheprovider -m "postgres or not browser" tests/api tests/kbsvc "$@"
others=$(find tests -name 'test_*.py' -not -path 'tests/api/*' -not -path 'tests/kbsvc/*' \
  | xargs grep -l 'mark.postgres' 2>/dev/null || true)
if [ -n "$others" ]; then
  # shellcheck disable=SC2086
  "$PY" -m pytest -p no:cacheprovider -m postgres $others "$@"
fi
