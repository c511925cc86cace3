"""PostgreSQL snapshots with pg_dump (one exported snapshot for dump and counts) and pg_restore."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, make_url

from kbsvc.exceptions import Conflict, ValidationFailed


def find_tool(name: str, bin_dir: str = "") -> str:
    """Path of pg_dump/pg_restore: the configured dir, else the newest Debian one, else PATH."""
    candidates = [str(Path(bin_dir) / name)] if bin_dir else []
    candidates += sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
        reverse=True,
    )
    for path in candidates:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if not found:
        raise ValidationFailed(
            f"{name} not found; install postgresql-client or set backup.pg_bin_dir"
        )
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and an environment carrying it (not on argv)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    plain = u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _counts(conn: Connection, names: list[str]) -> dict[str, int]:
    return {n: conn.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in names}


def snapshot(db_engine: Engine, url: str, target: Path, bin_dir: str = "") -> dict[str, int]:
    """pg_dump the database in custom format; return row counts from the same snapshot."""
    pg_dump = find_tool("pg_dump", bin_dir)
    dsn, env = _libpq(url)
    conn = db_engine.connect().execution_options(isolation_level="REPEATABLE READ")
    with conn, conn.begin():
        # pg_dump joins this transaction's snapshot, so the counts describe the dump exactly.
        snap = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _counts(conn, sorted(inspect(conn).get_table_names()))
        cmd = [pg_dump, "--format=custom", "--no-owner", "--no-acl", f"--snapshot={snap}"]
        done = subprocess.run(
            [*cmd, f"--file={target}", f"--dbname={dsn}"], env=env, capture_output=True
        )
    if done.returncode != 0:
        raise ValidationFailed(f"pg_dump failed: {done.stderr.decode(errors='replace').strip()}")
    return counts


def restore(
    db_engine: Engine, url: str, dump: Path, expected: dict[str, int], bin_dir: str = ""
) -> None:
    """pg_restore into an empty database in one transaction, then check the row counts."""
    with db_engine.connect() as conn:
        existing = inspect(conn).get_table_names()
    if existing:
        raise Conflict(
            f"database {make_url(url).database!r} already has {len(existing)} tables; "
            "restore only into an empty database"
        )
    pg_restore = find_tool("pg_restore", bin_dir)
    dsn, env = _libpq(url)
    cmd = [pg_restore, "--single-transaction", "--exit-on-error", "--no-owner", "--no-acl"]
    done = subprocess.run([*cmd, f"--dbname={dsn}", str(dump)], env=env, capture_output=True)
    if done.returncode != 0:
        raise ValidationFailed(f"pg_restore failed: {done.stderr.decode(errors='replace').strip()}")
    with db_engine.connect() as conn:
        counts = _counts(conn, sorted(inspect(conn).get_table_names()))
    if counts != expected:
        raise ValidationFailed("the restored database does not match the backup manifest")
