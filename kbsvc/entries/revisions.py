"""Revisions: edits of a published entry wait for review while readers keep the live version.

A published entry's live fields change only when a reviewer publishes a revision (which then
becomes the next version) or when a reviewer edits with `publish=True`. Everything that reads
entries (viewers, search, suggest, widget, exports) reads the `entries` row, so a pending
revision is invisible to them by construction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from kbsvc.attachments import review as attachment_review
from kbsvc.auth import policy
from kbsvc.auth.models import Principal, Role
from kbsvc.entries import service, versions
from kbsvc.entries.models import (
    OPEN_REVISION,
    Entry,
    EntryRevision,
    EntryStatus,
    EntryUpdate,
    RevisionRef,
    RevisionStatus,
)
from kbsvc.entries.schemas import FieldChange, RevisionPublic
from kbsvc.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from kbsvc.timeutil import utcnow
from kbsvc.vocab import mapping as vocab_mapping

R = RevisionStatus
LIST_FIELDS = ("tags", "restricted_departments")


def open_revision(session: Session, entry_id: int) -> EntryRevision | None:
    """The entry's draft or in-review revision, if any."""
    stmt = select(EntryRevision).where(
        col(EntryRevision.entry_id) == entry_id,
        col(EntryRevision.status).in_(OPEN_REVISION),
    )
    return session.execute(stmt).scalar_one_or_none()


def pending_refs(session: Session, entry_ids: list[int]) -> dict[int, RevisionRef]:
    """Open revisions per entry id, as the small reference list responses carry."""
    if not entry_ids:
        return {}
    stmt = select(EntryRevision).where(
        col(EntryRevision.entry_id).in_(entry_ids),
        col(EntryRevision.status).in_(OPEN_REVISION),
    )
    return {r.entry_id: ref(r) for r in session.execute(stmt).scalars()}


def ref(rev: EntryRevision) -> RevisionRef:
    return RevisionRef(version=rev.base_version + 1, status=rev.status)


def live_content(session: Session, entry: Entry) -> dict[str, Any]:
    """The entry's editable content as a revision stores it."""
    assert entry.id is not None
    data: dict[str, Any] = {f: getattr(entry, f) for f in versions.CONTENT_FIELDS}
    data["tags"] = service.tags_of(session, [entry.id])[entry.id]
    data["restricted_departments"] = policy.restrictions_of(session, [entry.id])[entry.id]
    return data


def edit(
    session: Session,
    *,
    entry_id: int,
    data: EntryUpdate,
    principal: Principal,
    base_version: int,
) -> tuple[Entry, EntryRevision | None]:
    """Edit an entry as `principal`: drafts change in place, published entries get a revision."""
    entry = service.get(session, entry_id=entry_id, principal=principal)
    if entry.merged_into_id is not None or entry.purged_at is not None:
        raise Conflict(
            f"entry {entry_id} was merged or purged and can no longer be edited",
            entry_id=entry_id,
        )
    if entry.status == EntryStatus.archived:
        raise Conflict(
            f"entry {entry_id} is archived: reopen it as a draft (restore-draft) to edit it",
            entry_id=entry_id,
            current_status=str(entry.status),
        )
    if entry.status != EntryStatus.published:
        return _direct(session, entry_id, data, principal, base_version, note=None), None
    if data.publish:
        if not principal.has(Role.reviewer):
            raise Forbidden("publishing an edit directly needs the reviewer role")
        if open_revision(session, entry_id) is not None:
            raise Conflict(
                f"entry {entry_id} has a revision waiting for review: publish, reject or "
                "discard it before editing the live version",
                entry_id=entry_id,
            )
        note = data.note or "审核人修改并直接发布"
        return _direct(session, entry_id, data, principal, base_version, note=note), None
    if entry.version != base_version:
        raise versions.stale(entry_id, base_version, entry.version)
    rev = open_revision(session, entry_id)
    if rev is None:
        rev = EntryRevision(
            entry_id=entry_id,
            base_version=entry.version,
            content=live_content(session, entry),
            created_by=principal.label,
        )
    content = dict(rev.content)  # a new dict, so the JSON column is seen as changed
    changed = vocab_mapping.canonical_fields(
        session, data.model_dump(exclude_unset=True, exclude={"base_version", "note", "publish"})
    )
    for key, value in changed.items():
        if value is not None:
            content[key] = value
    rev.content = content
    rev.note = data.note or rev.note
    rev.updated_by, rev.updated_at = principal.label, utcnow()
    session.add(rev)
    session.flush()
    return entry, rev


def _direct(
    session: Session,
    entry_id: int,
    data: EntryUpdate,
    principal: Principal,
    base_version: int,
    note: str | None,
) -> Entry:
    if note is not None:
        data = data.model_copy(update={"note": note})
    return service.update(
        session,
        entry_id=entry_id,
        data=data,
        actor=principal.label,
        base_version=base_version,
        principal=principal,
    )


def propose(
    session: Session, *, entry: Entry, content: dict[str, Any], actor: str, note: str
) -> EntryRevision:
    """A revision already under review (restoring an old version of a published entry)."""
    assert entry.id is not None
    if open_revision(session, entry.id) is not None:
        raise Conflict(
            f"entry {entry.id} already has a revision waiting for review; "
            "publish, reject or discard it first",
            entry_id=entry.id,
        )
    full = live_content(session, entry)
    full.update({k: v for k, v in content.items() if k in full})
    now = utcnow()
    rev = EntryRevision(
        entry_id=entry.id,
        base_version=entry.version,
        content=full,
        note=note,
        status=R.in_review,
        created_by=actor,
        updated_by=actor,
        submitted_at=now,
    )
    session.add(rev)
    session.flush()
    return rev


def require_open(session: Session, entry_id: int) -> EntryRevision:
    rev = open_revision(session, entry_id)
    if rev is None:
        raise NotFound(f"entry {entry_id} has no pending revision", entry_id=entry_id)
    return rev


def submit(session: Session, *, rev: EntryRevision, actor: str, note: str = "") -> None:
    """Draft revision → in review."""
    if rev.status != R.draft:
        raise Conflict(
            f"the revision of entry {rev.entry_id} is already waiting for review",
            entry_id=rev.entry_id,
            current_status=str(rev.status),
        )
    rev.status, rev.submitted_at = R.in_review, utcnow()
    rev.updated_by, rev.updated_at = actor, utcnow()
    rev.note = note.strip() or rev.note
    session.add(rev)
    session.flush()


def reject(session: Session, *, rev: EntryRevision, actor: str, comment: str) -> None:
    """In-review revision → back to its author as a draft, with the reviewer's comment."""
    if rev.status != R.in_review:
        raise Conflict(
            f"the revision of entry {rev.entry_id} is not waiting for review",
            entry_id=rev.entry_id,
            current_status=str(rev.status),
        )
    if not comment.strip():
        raise ValidationFailed("a rejection needs a comment telling the editor what to fix")
    rev.status, rev.review_comment, rev.reviewed_by = R.draft, comment.strip(), actor
    rev.updated_at = utcnow()
    session.add(rev)
    session.flush()


def publish(session: Session, *, entry: Entry, rev: EntryRevision, actor: str, note: str) -> Entry:
    """Apply an in-review revision to the live entry as its next version."""
    if rev.status != R.in_review:
        raise Conflict(
            f"the revision of entry {rev.entry_id} has not been submitted for review",
            entry_id=rev.entry_id,
            current_status=str(rev.status),
        )
    if entry.status != EntryStatus.published:
        raise Conflict(
            f"entry {entry.id} is {entry.status}; only a published entry takes a revision",
            entry_id=entry.id,
            current_status=str(entry.status),
        )
    versions.bump(session, entry, base_version=rev.base_version)
    for field in versions.CONTENT_FIELDS:
        if field in rev.content:
            setattr(entry, field, rev.content[field])
    assert entry.id is not None
    service.set_tags(session, entry.id, rev.content.get("tags", []))
    policy.set_restrictions(session, entry.id, rev.content.get("restricted_departments", []))
    attachment_review.publish(session, entry.id, rev)
    entry.review_comment = ""
    rev.status, rev.reviewed_by, rev.published_version = R.published, actor, entry.version
    rev.updated_at = utcnow()
    session.add(rev)
    text = f"发布修订：{rev.note}" if rev.note else "发布修订"
    versions.record(
        session, entry, actor=actor, note=f"{text}；{note.strip()}" if note.strip() else text
    )
    return entry


def discard(session: Session, *, entry_id: int, actor: str) -> None:
    """Drop the pending revision; the live entry stays as it is."""
    rev = require_open(session, entry_id)
    rev.status, rev.updated_by, rev.updated_at = R.discarded, actor, utcnow()
    session.add(rev)
    attachment_review.discard(session, entry_id)
    session.flush()


def to_public(session: Session, entry: Entry, rev: EntryRevision) -> RevisionPublic:
    """The revision with its field-by-field difference from the live entry."""
    live = live_content(session, entry)
    changes = [
        FieldChange(field=f, before=live.get(f), after=rev.content.get(f))
        for f in (*versions.CONTENT_FIELDS, *LIST_FIELDS)
        if _norm(live.get(f)) != _norm(rev.content.get(f))
    ]
    assert entry.id is not None
    pictures = attachment_review.diff(session, entry.id, rev)
    if pictures is not None:
        changes.append(FieldChange(field="attachments", before=pictures[0], after=pictures[1]))
    return RevisionPublic.model_validate(
        rev, update={"version": rev.base_version + 1, "changes": changes}
    )


def _norm(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def restore(
    session: Session,
    *,
    entry_id: int,
    version: int,
    actor: str,
    base_version: int | None = None,
    note: str = "",
    principal: Principal,
) -> tuple[Entry, EntryRevision | None]:
    """Bring back an old version: in place for drafts, as a revision under review if published."""
    entry = service.get(session, entry_id=entry_id, principal=principal)
    if entry.status != EntryStatus.published:
        entry = versions.restore(
            session,
            entry_id=entry_id,
            version=version,
            actor=actor,
            base_version=base_version,
            note=note,
            principal=principal,
        )
        return entry, None
    if base_version is not None and base_version != entry.version:
        raise versions.stale(entry_id, base_version, entry.version)
    old = versions.get_version(session, entry_id=entry_id, version=version).snapshot
    rev = propose(
        session, entry=entry, content=old, actor=actor, note=note or f"恢复第 {version} 版"
    )
    return entry, rev
