"""SQLite snapshots through the online backup API, and restore by verified file copy."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from kbsvc.exceptions import Conflict, ValidationFailed


def database_path(url: str) -> Path:
    """The file behind a sqlite:/// URL."""
    name = make_url(url).database
    if not name or name == ":memory:":
        raise ValidationFailed("an in-memory SQLite database cannot be backed up or restored")
    return Path(name).expanduser().resolve()


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per user table (sqlite_* internals excluded)."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}


def snapshot(source: Path, target: Path) -> dict[str, int]:
    """Copy a live database to `target` consistently; return the copy's row counts."""
    if not source.is_file():
        raise ValidationFailed(f"no database at {source}")
    src = sqlite3.connect(source, timeout=15)
    dst = sqlite3.connect(target)
    try:
        # pages=-1 copies in one step under one read transaction: a consistent snapshot even
        # while the service writes (WAL readers never block the writer).
        src.backup(dst, pages=-1)
        # The copy inherits WAL mode; switch it back so the backup is one self-contained file.
        dst.execute("PRAGMA journal_mode=DELETE")
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise ValidationFailed("the database snapshot failed its integrity check")
        return table_counts(dst)
    finally:
        dst.close()
        src.close()


def restore(dump: Path, target: Path, expected: dict[str, int]) -> None:
    """Place a verified copy of `dump` at `target` (which must not exist)."""
    if target.exists():
        raise Conflict(f"{target} already exists; restore only into an empty data directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restoring")
    tmp.unlink(missing_ok=True)
    shutil.copyfile(dump, tmp)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    conn = sqlite3.connect(tmp)
    try:
        ok = conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = table_counts(conn)
    finally:
        conn.close()
    if not ok or counts != expected:
        tmp.unlink(missing_ok=True)
        raise ValidationFailed("the restored database does not match the backup manifest")
    # The rename is the commit: a restore killed before it leaves only the temp file.
    os.replace(tmp, target)
