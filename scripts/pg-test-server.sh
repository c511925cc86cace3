#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: initdb into a temp dir, listen on 127.0.0.1 at a
# free port, create database kbsvc_test. initdb refuses to run as root, so as root the server
# runs as the `postgres` OS user (Debian's package creates it).
#   start: prints `export KBSVC_TEST_DATABASE_URL=...` and `export KBSVC_PG_DIR=...` (eval it)
#   stop DIR: stops that server and removes its directory
set -euo pipefail
cmd="${1:-start}"

pgbin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  if [ -z "$d" ] && command -v initdb >/dev/null; then d="$(dirname "$(command -v initdb)")"; fi
  [ -n "$d" ] || { echo "error: PostgreSQL server binaries not found (apt install postgresql)" >&2; exit 1; }
  echo "$d"
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    BIN="$(pgbin)"
    DIR="$(mktemp -d /tmp/kbsvc-pg.XXXXXX)"
    chmod 755 "$DIR"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_owner "$BIN/initdb" -D "$DIR/data" -U kbsvc --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; exit 1; }
    # Tests create and drop many databases: durability buys nothing here.
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
      -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c max_connections=200" >/dev/null \
      || { cat "$DIR/server.log" >&2; exit 1; }
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U kbsvc kbsvc_test
    echo "export KBSVC_TEST_DATABASE_URL=postgresql+psycopg://kbsvc@127.0.0.1:$PORT/kbsvc_test"
    echo "export KBSVC_PG_DIR=$DIR"
    ;;
  stop)
    DIR="${2:?usage: pg-test-server.sh stop DIR}"
    BIN="$(pgbin)"
    if [ -d "$DIR/data" ]; then
      as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    case "$DIR" in /tmp/kbsvc-pg.*) rm -rf "$DIR" ;; esac
    ;;
  *)
    echo "usage: pg-test-server.sh start | stop DIR" >&2; exit 2 ;;
esac
