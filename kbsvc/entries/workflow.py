"""Review workflow: the state machine, the review queue, review dates and upgrade flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, false, func, or_, select
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.config import LifecycleSettings
from kbsvc.entries import changes, revisions, service, versions
from kbsvc.entries.models import (
    EntriesPublic,
    Entry,
    EntryRevision,
    EntryStatus,
    RevisionStatus,
)
from kbsvc.exceptions import Conflict, ValidationFailed
from kbsvc.notify import events
from kbsvc.timeutil import as_aware, utcnow

S = EntryStatus


@dataclass(frozen=True)
class Transition:
    """One allowed move; `role` is who may make it (enforced at the API edge)."""

    action: str
    source: EntryStatus
    target: EntryStatus
    role: str
    note: str


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("submit", S.draft, S.in_review, "editor", "submitted for review"),
        Transition("publish", S.in_review, S.published, "reviewer", "published"),
        Transition("reject", S.in_review, S.draft, "reviewer", "returned to draft"),
        Transition("archive", S.published, S.archived, "reviewer", "archived"),
        Transition("restore_draft", S.archived, S.draft, "editor", "reopened as draft"),
    )
}


def allowed_from(status: EntryStatus) -> list[str]:
    """Actions possible from a status (for error messages and the UI)."""
    return [t.action for t in TRANSITIONS.values() if t.source == status]


def transition(
    session: Session,
    *,
    entry_id: int,
    action: str,
    actor: str,
    note: str = "",
    principal: Principal,
    settings: LifecycleSettings | None = None,
    base_version: int | None = None,
) -> Entry:
    """Apply a workflow action; a move the state machine forbids is a Conflict."""
    move = TRANSITIONS.get(action)
    if move is None:
        raise ValidationFailed(f"unknown action {action!r}; known: {sorted(TRANSITIONS)}")
    entry = service.get(session, entry_id=entry_id, principal=principal)
    if action in REVISION_ACTIONS and entry.status == S.published:
        rev = revisions.open_revision(session, entry_id)
        if rev is not None:
            return _revision_move(session, entry, rev, action, actor, note, settings)
    if entry.status != move.source:
        raise Conflict(
            f"cannot {action.replace('_', ' ')} entry {entry_id}: it is {entry.status}, "
            f"and {move.target} can only be reached from {move.source} this way",
            entry_id=entry_id,
            current_status=str(entry.status),
            target_status=str(move.target),
            allowed_actions=allowed_from(entry.status),
        )
    if entry.merged_into_id is not None:
        raise Conflict(
            f"entry {entry_id} was merged into entry {entry.merged_into_id}",
            entry_id=entry_id,
            merged_into_id=entry.merged_into_id,
        )
    if action == "reject" and not note.strip():
        raise ValidationFailed("a rejection needs a comment telling the editor what to fix")
    versions.bump(session, entry, base_version=base_version)
    entry.status = move.target
    if action == "reject":
        entry.review_comment = note.strip()
    elif action == "publish":
        entry.review_comment = ""
        entry.review_due_at = due_date(entry.category, settings)
    text = f"{move.note}: {note.strip()}" if note.strip() else move.note
    versions.record(session, entry, actor=actor, note=text)
    # In the same transaction as the move: the notice exists exactly when the move does.
    if action == "submit":
        events.entry_submitted(session, entry, actor=actor, version=entry.version)
    elif action == "reject":
        events.entry_rejected(
            session, entry, actor=actor, comment=entry.review_comment, version=entry.version
        )
    session.flush()
    return entry


REVISION_ACTIONS = ("submit", "publish", "reject")


def _revision_move(
    session: Session,
    entry: Entry,
    rev: EntryRevision,
    action: str,
    actor: str,
    note: str,
    settings: LifecycleSettings | None,
) -> Entry:
    """Submit, publish or reject the pending revision of a published entry."""
    if action == "submit":
        revisions.submit(session, rev=rev, actor=actor, note=note)
    elif action == "reject":
        revisions.reject(session, rev=rev, actor=actor, comment=note)
    else:
        entry.review_due_at = due_date(rev.content.get("category", entry.category), settings)
        revisions.publish(session, entry=entry, rev=rev, actor=actor, note=note)
        session.flush()
    return entry


def due_date(
    category: str, settings: LifecycleSettings | None = None, now: datetime | None = None
) -> datetime:
    """When an entry published now should be reviewed again."""
    days = (settings or LifecycleSettings()).review_days(category)
    return (now or utcnow()) + timedelta(days=days)


def mark_reviewed(
    session: Session,
    *,
    entry_id: int,
    actor: str,
    principal: Principal,
    settings: LifecycleSettings | None = None,
) -> Entry:
    """A reviewer confirmed a published entry still holds: next due date, flags stay for triage."""
    entry = service.get(session, entry_id=entry_id, principal=principal)
    if entry.status != S.published:
        raise Conflict(
            f"only published entries can be marked reviewed; entry {entry_id} is {entry.status}",
            entry_id=entry_id,
            current_status=str(entry.status),
        )
    entry.review_due_at = due_date(entry.category, settings)
    session.add(entry)
    changes.record_change(session, entry)
    session.flush()
    return entry


def _page(session: Session, stmt: Select[Entry], offset: int, limit: int) -> EntriesPublic:
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = list(session.execute(stmt.offset(offset).limit(limit)).scalars())
    ids = [e.id for e in rows if e.id is not None]
    tags = service.tags_of(session, ids)
    pending = revisions.pending_refs(session, ids)
    data = [
        service.to_public(session, e, tags[e.id or 0], pending=pending.get(e.id or 0)) for e in rows
    ]
    return EntriesPublic(data=data, count=count)


def review_queue(
    session: Session,
    *,
    system: str | None = None,
    offset: int = 0,
    limit: int = 50,
    principal: Principal,
) -> EntriesPublic:
    """Entries (or revisions of published ones) waiting for a reviewer that `principal` may
    see, longest-waiting first."""
    waiting = and_(
        col(EntryRevision.entry_id) == col(Entry.id),
        col(EntryRevision.status) == RevisionStatus.in_review,
    )
    # Pending revisions are for editors and up (auth.policy): a viewer learns nothing of them.
    revised = col(EntryRevision.id).is_not(None) if policy.sees_unpublished(principal) else false()
    stmt = (
        select(Entry)
        .outerjoin(EntryRevision, waiting)
        .where(or_(col(Entry.status) == S.in_review, revised), policy.visible_filter(principal))
    )
    if system:
        stmt = stmt.where(col(Entry.system) == system)
    since = func.coalesce(col(EntryRevision.submitted_at), col(Entry.updated_at))
    return _page(session, stmt.order_by(since, col(Entry.id)), offset, limit)


def due(
    session: Session,
    *,
    before: datetime | None = None,
    system: str | None = None,
    offset: int = 0,
    limit: int = 50,
    principal: Principal,
) -> EntriesPublic:
    """Published entries (that `principal` may see) due for review at `before` (default now)."""
    cutoff = as_aware(before) or utcnow()
    stmt = select(Entry).where(
        policy.visible_filter(principal),
        col(Entry.status) == S.published,
        col(Entry.review_due_at).is_not(None),
        col(Entry.review_due_at) <= cutoff,
    )
    if system:
        stmt = stmt.where(col(Entry.system) == system)
    return _page(session, stmt.order_by(col(Entry.review_due_at), col(Entry.id)), offset, limit)


def system_upgraded(session: Session, *, system: str, actor: str, note: str = "") -> list[int]:
    """Flag every published entry of `system` for review now; returns their ids."""
    from kbsvc.feedback.models import FlagReason
    from kbsvc.feedback.service import raise_flag

    if not system.strip():
        raise ValidationFailed("system name is empty")
    stmt = select(Entry).where(col(Entry.status) == S.published, col(Entry.system) == system)
    now = utcnow()
    flagged = []
    comment = note.strip() or f"{system} 已升级，请复核该条目是否仍然适用"
    for entry in list(session.execute(stmt.order_by(col(Entry.id))).scalars()):
        entry.review_due_at = now
        session.add(entry)
        changes.record_change(session, entry)
        raise_flag(
            session,
            entry_id=entry.id or 0,
            reason=FlagReason.system_upgraded,
            comment=comment,
            actor=actor,
            notify=False,
        )
        flagged.append(entry.id or 0)
    if flagged:  # one notice for the upgrade, not one chat message per entry
        events.system_upgraded(session, system=system, entry_ids=flagged, comment=comment)
    session.flush()
    return flagged
