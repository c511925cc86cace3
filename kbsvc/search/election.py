"""Electing the index writer across hosts: a PostgreSQL advisory lock on its own connection."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from indexer.election import FileWriterLock, WriterLock
from kbsvc.config import Settings

log = logging.getLogger(__name__)
LOCK_KEY = 0x6B627376_696E6478  # "kbsvindx": one writer per database


class PgAdvisoryLock:
    """Session-level `pg_try_advisory_lock` held on a dedicated connection: the server frees it
    when the writer's process (and so its connection) dies."""

    def __init__(self, db_engine: Engine) -> None:
        self.db_engine = db_engine
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            try:  # still ours only while the session lives
                self._conn.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                log.warning("index writer lost its database session; re-electing")
                self.release()
        conn = self.db_engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar()
        conn.commit()
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._conn.close()
            except SQLAlchemyError:
                pass  # a dead session has released it already
            self._conn = None


def writer_lock(settings: Settings, db_engine: Engine, index_dir: Path) -> WriterLock:
    """The advisory lock when hosts share the index on PostgreSQL, else a file lock per folder."""
    if settings.search.shared_index and db_engine.dialect.name == "postgresql":
        return PgAdvisoryLock(db_engine)
    return FileWriterLock(index_dir / "writer.lock")
