"""PostgreSQL-specific behaviour: the change sequence under concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.entries import service
from kbsvc.entries.models import EntryChange, EntryCreate
from tests.conftest import PG_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="needs KBSVC_TEST_DATABASE_URL (scripts/run-tests.sh)"),
]


def test_runs_on_postgresql(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"


def test_concurrent_writers_get_unique_gapless_sequence(engine: Engine) -> None:
    def write(i: int) -> int:
        with Session(engine, expire_on_commit=False) as session:
            entry = service.create(session, data=EntryCreate(title=f"并发条目{i}"), actor="t")
            session.commit()  # services only flush; the caller owns the transaction
            return entry.change_seq

    with ThreadPoolExecutor(max_workers=8) as pool:
        seqs = list(pool.map(write, range(40)))
    assert sorted(seqs) == list(range(1, 41))
    with Session(engine) as session:
        logged = list(session.execute(select(EntryChange.seq).order_by(EntryChange.seq)).scalars())
    assert logged == list(range(1, 41))
