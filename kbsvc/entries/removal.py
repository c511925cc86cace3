"""Removing entries without destroying knowledge in use: guarded delete and admin purge.

Only a draft that was never published and never cited may be deleted; anything else is archived
(readers keep it, citing tickets keep resolving). An admin purge with a reason destroys the
content (say it holds patient data) but keeps a tombstone row, the ticket links and an audit
record, so tickets that cited it still resolve to "purged by X because Y".
"""

from __future__ import annotations

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.attachments import review as attachment_review
from kbsvc.auth.models import AuditEvent, Principal
from kbsvc.entries import changes, service, versions
from kbsvc.entries.models import (
    Entry,
    EntryLink,
    EntryRevision,
    EntryStatus,
    EntryTag,
    EntryVersion,
    LinkKind,
)
from kbsvc.exceptions import Conflict
from kbsvc.timeutil import utcnow

PURGED_TITLE = "（内容已由管理员清除）"


def was_published(session: Session, entry_id: int) -> bool:
    """True when any stored version of the entry was published or archived."""
    stmt = select(col(EntryVersion.snapshot)).where(col(EntryVersion.entry_id) == entry_id)
    return any(
        (snap or {}).get("status") in (EntryStatus.published, EntryStatus.archived)
        for snap in session.execute(stmt).scalars()
    )


def citation_count(session: Session, entry_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(EntryLink)
        .where(col(EntryLink.entry_id) == entry_id, col(EntryLink.kind) == LinkKind.cited)
    )
    return int(session.execute(stmt).scalar_one())


def delete(session: Session, *, entry_id: int, principal: Principal) -> None:
    """Delete a never-published, never-cited draft; anything else is a Conflict (archive it)."""
    entry = service.get(session, entry_id=entry_id, principal=principal)
    cited = citation_count(session, entry_id)
    if entry.status != EntryStatus.draft or cited or was_published(session, entry_id):
        raise Conflict(
            "只能删除从未发布、也未被工单引用的草稿。这条知识已发布过或已被引用，"
            "删除会让引用它的工单失去依据；请改用“归档”，归档后读者和引用工单仍可查到它。",
            entry_id=entry_id,
            current_status=str(entry.status),
            citations=cited,
            allowed_actions=["archive"],
        )
    service.delete(session, entry_id=entry_id, actor=principal.label, principal=principal)


def purge(session: Session, *, entry_id: int, principal: Principal, reason: str) -> Entry:
    """Destroy an entry's content (admin): a tombstone keeps the id, links and the reason."""
    entry = service.get(session, entry_id=entry_id, principal=principal)
    if entry.purged_at is not None:
        raise Conflict(f"entry {entry_id} was already purged", entry_id=entry_id)
    versions.bump(session, entry)
    for field in versions.CONTENT_FIELDS:
        setattr(entry, field, "")
    entry.title = PURGED_TITLE
    entry.status = EntryStatus.archived
    entry.purged_at, entry.purge_reason = utcnow(), reason.strip()
    entry.review_due_at = None
    # Snapshots and revisions hold the destroyed text too.
    session.execute(sa_delete(EntryVersion).where(col(EntryVersion.entry_id) == entry_id))
    session.execute(sa_delete(EntryRevision).where(col(EntryRevision.entry_id) == entry_id))
    session.execute(sa_delete(EntryTag).where(col(EntryTag.entry_id) == entry_id))
    attachment_review.purge(session, entry_id)
    versions.record(session, entry, actor=principal.label, note=f"管理员清除：{reason.strip()}")
    session.add(
        AuditEvent(
            actor=principal.label[:120],
            role=str(principal.role or ""),
            action="entry.purge",
            object_type="entry",
            object_id=str(entry_id),
            object_ids=[str(entry_id)],
            status=200,
            summary=f"purged entry {entry_id}: {reason.strip()}"[:500],
        )
    )
    changes.record_change(session, entry_id, op="delete")
    session.flush()
    return entry
