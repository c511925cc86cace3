"""Electing the index writer: one holder at a time, and the lock comes free when it goes."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from indexer.election import FileWriterLock, WriterLock
from kbsvc.config import Settings
from kbsvc.search.election import PgAdvisoryLock, writer_lock

pytestmark = pytest.mark.postgres


def _one_at_a_time(a: WriterLock, b: WriterLock) -> None:
    assert a.try_acquire()
    assert a.try_acquire()  # held already
    assert not b.try_acquire()
    a.release()
    assert b.try_acquire()
    assert not a.try_acquire()
    b.release()


def test_file_lock_per_index_folder(settings: Settings, engine: Engine) -> None:
    lock = writer_lock(settings, engine, settings.index_dir)
    assert isinstance(lock, FileWriterLock)
    _one_at_a_time(lock, FileWriterLock(settings.index_dir / "writer.lock"))


def test_advisory_lock_across_hosts_on_postgresql(settings: Settings, engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's (run-tests.sh runs this on PostgreSQL)")
    settings.search.shared_index = True
    lock = writer_lock(settings, engine, settings.index_dir)
    assert isinstance(lock, PgAdvisoryLock)
    _one_at_a_time(lock, PgAdvisoryLock(engine))
    # A holder whose session dies (its process killed) frees the lock for the next one.
    a, b = PgAdvisoryLock(engine), PgAdvisoryLock(engine)
    assert a.try_acquire() and not b.try_acquire()
    assert a._conn is not None
    a._conn.invalidate()  # the connection is gone, as with a killed process
    a._conn = None
    assert b.try_acquire()
    b.release()
