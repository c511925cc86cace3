"""The entry change sequence the indexer follows."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.db import savepoint
from kbsvc.entries.models import Entry, EntryChange, SequenceCounter

ENTRY_SEQ = "entries"


def next_seq(session: Session, name: str = ENTRY_SEQ) -> int:
    """Take the next value; the row lock it holds until commit keeps commit order = seq order."""
    stmt = (
        update(SequenceCounter)
        .where(col(SequenceCounter.name) == name)
        .values(value=col(SequenceCounter.value) + 1)
        .returning(col(SequenceCounter.value))
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        try:
            with savepoint(session):
                session.execute(insert(SequenceCounter).values(name=name, value=0))
        except IntegrityError:
            pass  # another writer created it first
        value = session.execute(stmt).scalar_one()
    return int(value)


def reserve(session: Session, n: int, name: str = ENTRY_SEQ) -> int:
    """Take `n` values at once (bulk imports); returns the last, so they are last-n+1 … last."""
    stmt = (
        update(SequenceCounter)
        .where(col(SequenceCounter.name) == name)
        .values(value=col(SequenceCounter.value) + n)
        .returning(col(SequenceCounter.value))
    )
    value = session.execute(stmt).scalar_one_or_none()
    if value is None:
        next_seq(session, name)  # creates the counter; the value it takes stays unused
        value = session.execute(stmt).scalar_one()
    return int(value)


def record_change(session: Session, entry: Entry | int, op: str = "upsert") -> int:
    """Append an entry change to the outbox; returns its sequence number."""
    seq = next_seq(session)
    entry_id = entry if isinstance(entry, int) else entry.id
    assert entry_id is not None
    if not isinstance(entry, int):
        entry.change_seq = seq
    session.add(EntryChange(seq=seq, entry_id=entry_id, op=op))
    return seq


def touch(session: Session, entry_id: int) -> int:
    """Mark an entry changed because something indexed with it changed (links, tags)."""
    entry = session.get(Entry, entry_id)
    return record_change(session, entry if entry is not None else entry_id)


def latest_seq(session: Session) -> int:
    """Highest committed change sequence (0 when nothing changed yet)."""
    return int(session.execute(select(func.max(col(EntryChange.seq)))).scalar_one() or 0)


def changes_since(session: Session, seq: int, limit: int = 10_000) -> list[EntryChange]:
    """Changes after `seq`, in order."""
    stmt = (
        select(EntryChange)
        .where(col(EntryChange.seq) > seq)
        .order_by(col(EntryChange.seq))
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())
