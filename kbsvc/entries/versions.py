"""Entry versions: compare-and-swap version bumps, snapshots, history, diff and restore."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from kbsvc.auth.models import Principal
from kbsvc.db import rowcount
from kbsvc.entries import changes
from kbsvc.entries.models import Entry, EntryVersion
from kbsvc.entries.schemas import (
    FieldChange,
    VersionDetail,
    VersionDiff,
    VersionPublic,
    VersionsPublic,
)
from kbsvc.exceptions import Conflict, NotFound
from kbsvc.timeutil import utcnow

CONTENT_FIELDS = (
    "title",
    "symptom",
    "cause",
    "solution",
    "workaround",
    "system",
    "module",
    "department",
    "category",
)
# Snapshot field order is also the diff order.
SNAPSHOT_FIELDS = (*CONTENT_FIELDS, "tags", "status", "merged_into_id", "review_due_at")


def _current_version(session: Session, entry_id: int) -> int | None:
    stmt = select(col(Entry.version)).where(col(Entry.id) == entry_id)
    return session.execute(stmt).scalar_one_or_none()


def stale(entry_id: int, base: int, current: int | None) -> Conflict:
    """The 409 a writer gets when someone else changed the entry first."""
    return Conflict(
        f"entry {entry_id} was changed by someone else: your edit is based on version {base}, "
        f"the entry is now at version {current}; reload it and reapply your edit",
        entry_id=entry_id,
        base_version=base,
        current_version=current,
    )


def bump(session: Session, entry: Entry, *, base_version: int | None = None) -> int:
    """Claim the next version with a compare-and-swap; raises Conflict (and rolls back) if stale.

    The guarded UPDATE is the transaction's first write, so on SQLite it waits for (and then
    sees) a concurrent writer's commit, and on PostgreSQL it re-checks the row after the lock.
    """
    assert entry.id is not None
    base = entry.version if base_version is None else base_version
    if entry.version != base:
        raise stale(entry.id, base, entry.version)
    stmt = (
        sa_update(Entry)
        .where(col(Entry.id) == entry.id, col(Entry.version) == base)
        .values(version=base + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(session.execute(stmt)) != 1:
        raise stale(entry.id, base, _current_version(session, entry.id))
    entry.version = base + 1
    return entry.version


def snapshot(entry: Entry, tags: list[str]) -> dict[str, Any]:
    """JSON-ready copy of every versioned field."""
    return snapshot_of(
        {f: getattr(entry, f) for f in CONTENT_FIELDS},
        tags,
        str(entry.status),
        merged_into_id=entry.merged_into_id,
        review_due_at=entry.review_due_at,
    )


def snapshot_of(
    fields: Mapping[str, Any],
    tags: list[str],
    status: str,
    *,
    merged_into_id: int | None = None,
    review_due_at: datetime | None = None,
) -> dict[str, Any]:
    """snapshot() of an entry given as plain values (bulk imports never build the model)."""
    data: dict[str, Any] = {f: fields[f] for f in CONTENT_FIELDS}
    data["tags"] = sorted(tags)
    data["status"] = status
    data["merged_into_id"] = merged_into_id
    data["review_due_at"] = review_due_at.isoformat() if review_due_at else None
    return data


def record(session: Session, entry: Entry, *, actor: str, note: str) -> EntryVersion:
    """Store the entry's current state as its current version and record the change."""
    from kbsvc.entries.service import tags_of

    assert entry.id is not None
    entry.updated_by = actor
    entry.updated_at = utcnow()
    session.add(entry)
    session.flush()
    row = EntryVersion(
        entry_id=entry.id,
        version=entry.version,
        author=actor,
        note=note[:500],
        snapshot=snapshot(entry, tags_of(session, [entry.id])[entry.id]),
    )
    session.add(row)
    changes.record_change(session, entry)
    session.flush()
    return row


def list_versions(session: Session, *, entry_id: int) -> VersionsPublic:
    """Every stored version of an entry, newest first."""
    stmt = (
        select(EntryVersion)
        .where(col(EntryVersion.entry_id) == entry_id)
        .order_by(col(EntryVersion.version).desc())
    )
    rows = list(session.execute(stmt).scalars())
    data = [VersionPublic.model_validate(r) for r in rows]
    return VersionsPublic(data=data, count=len(data))


def get_version(session: Session, *, entry_id: int, version: int) -> VersionDetail:
    """One version with its snapshot, or NotFound."""
    stmt = select(EntryVersion).where(
        col(EntryVersion.entry_id) == entry_id,
        col(EntryVersion.version) == version,
    )
    row = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise NotFound(
            f"entry {entry_id} has no version {version}", entry_id=entry_id, version=version
        )
    return VersionDetail.model_validate(row)


def diff(session: Session, *, entry_id: int, from_version: int, to_version: int) -> VersionDiff:
    """Field-by-field differences between two versions."""
    before = get_version(session, entry_id=entry_id, version=from_version).snapshot
    after = get_version(session, entry_id=entry_id, version=to_version).snapshot
    fields = [*SNAPSHOT_FIELDS, *sorted((set(before) | set(after)) - set(SNAPSHOT_FIELDS))]
    changed = [
        FieldChange(field=f, before=before.get(f), after=after.get(f))
        for f in fields
        if before.get(f) != after.get(f)
    ]
    return VersionDiff(
        entry_id=entry_id, from_version=from_version, to_version=to_version, changes=changed
    )


def restore(
    session: Session,
    *,
    entry_id: int,
    version: int,
    actor: str,
    base_version: int | None = None,
    note: str = "",
    principal: Principal,
) -> Entry:
    """Bring back an old version's content and tags as a new version (status is kept)."""
    from kbsvc.entries.service import get, set_tags

    entry = get(session, entry_id=entry_id, principal=principal)
    old = get_version(session, entry_id=entry_id, version=version).snapshot
    bump(session, entry, base_version=base_version)
    for field in CONTENT_FIELDS:
        if field in old:
            setattr(entry, field, old[field])
    set_tags(session, entry_id, old.get("tags", []))
    record(session, entry, actor=actor, note=note or f"restored from version {version}")
    session.flush()
    return entry
