"""Two writers editing the same entry version: exactly one wins, the other gets a Conflict."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.entries import service
from kbsvc.entries.models import EntryChange, EntryUpdate, EntryVersion
from kbsvc.exceptions import Conflict
from tests.factories import make_entry


def test_two_concurrent_writers_one_wins(engine: Engine, session: Session) -> None:
    entry = make_entry(session)
    entry_id = entry.id or 0
    barrier = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def writer(name: str) -> None:
        with Session(engine, expire_on_commit=False) as s:
            loaded = service.get(s, entry_id=entry_id, principal=SYSTEM)
            assert loaded.version == 1
            barrier.wait()  # both have read version 1 before either writes
            try:
                service.update(
                    s,
                    entry_id=entry_id,
                    base_version=1,
                    actor=name,
                    data=EntryUpdate(cause=f"{name}的原因", tags=[name]),
                    principal=SYSTEM,
                )
                s.commit()  # the caller's unit of work, as a request or CLI command commits
                outcome[name] = "ok"
            except Conflict as exc:
                outcome[name] = f"conflict:{exc.details['current_version']}"

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcome.values()) == ["conflict:2", "ok"], outcome
    winner = next(n for n, o in outcome.items() if o == "ok")

    with Session(engine) as s:
        final = service.get(s, entry_id=entry_id, principal=SYSTEM)
        assert final.version == 2 and final.cause == f"{winner}的原因"
        assert service.tags_of(s, [entry_id])[entry_id] == [winner]
        rows = s.execute(
            select(EntryVersion.version, EntryVersion.author)
            .where(EntryVersion.entry_id == entry_id)
            .order_by(EntryVersion.version)
        ).all()
        assert [tuple(r) for r in rows] == [(1, "test"), (2, winner)]
        changes = s.execute(
            select(func.count()).select_from(EntryChange).where(EntryChange.entry_id == entry_id)
        ).scalar_one()
        assert changes == 2  # the loser left no change record behind
