"""Merge a duplicate entry into a survivor: links, citations, feedback, flags and tags move."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col

from kbsvc.attachments import review as attachment_review
from kbsvc.auth.models import Principal
from kbsvc.db import rowcount
from kbsvc.entries import changes, service, versions
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.exceptions import Conflict, ValidationFailed


def _move_links(session: Session, loser: Entry, survivor: Entry) -> int:
    """Move ticket links; a link the survivor already has is dropped (unique constraint)."""
    links = service.links_of(session, survivor.id or 0)
    have = {(lk.source, lk.external_id, lk.kind) for lk in links}
    moved = 0
    for link in service.links_of(session, loser.id or 0):
        key = (link.source, link.external_id, link.kind)
        if key in have:
            session.delete(link)
            continue
        link.entry_id = survivor.id or 0
        session.add(link)
        have.add(key)
        moved += 1
    session.flush()
    return moved


def _move_feedback(session: Session, loser: Entry, survivor: Entry) -> int:
    """Move votes; where the same voter voted on both, the newer vote wins."""
    from kbsvc.feedback.models import Feedback, ReviewFlag

    def votes(entry_id: int) -> dict[str, Feedback]:
        stmt = select(Feedback).where(col(Feedback.entry_id) == entry_id)
        return {fb.voter_key: fb for fb in session.execute(stmt).scalars()}

    kept = votes(survivor.id or 0)
    moved = 0
    for key, fb in votes(loser.id or 0).items():
        old = kept.get(key)
        if old is not None and old.updated_at >= fb.updated_at:
            session.execute(
                sa_update(ReviewFlag)
                .where(col(ReviewFlag.feedback_id) == fb.id)
                .values(feedback_id=old.id)
            )
            session.delete(fb)
            continue
        if old is not None:
            session.execute(
                sa_update(ReviewFlag)
                .where(col(ReviewFlag.feedback_id) == old.id)
                .values(feedback_id=fb.id)
            )
            session.delete(old)
            session.flush()
        fb.entry_id = survivor.id or 0
        session.add(fb)
        moved += 1
    session.flush()
    return moved


def _move_flags(session: Session, loser: Entry, survivor: Entry) -> int:
    from kbsvc.feedback.models import ReviewFlag

    stmt = (
        sa_update(ReviewFlag)
        .where(col(ReviewFlag.entry_id) == loser.id)
        .values(entry_id=survivor.id)
    )
    return rowcount(session.execute(stmt))


def merge(
    session: Session,
    *,
    survivor_id: int,
    loser_id: int,
    actor: str,
    principal: Principal,
    append_solution: bool = False,
) -> tuple[Entry, Entry, dict[str, int]]:
    """Merge `loser_id` into `survivor_id`; the loser is archived and redirects to the survivor."""
    if survivor_id == loser_id:
        raise ValidationFailed("an entry cannot be merged into itself")
    survivor = service.get(session, entry_id=survivor_id, principal=principal)
    loser = service.get(session, entry_id=loser_id, principal=principal)
    for entry in (survivor, loser):
        if entry.merged_into_id is not None:
            raise Conflict(
                f"entry {entry.id} was already merged into entry {entry.merged_into_id}",
                entry_id=entry.id,
                merged_into_id=entry.merged_into_id,
            )
    versions.bump(session, survivor)
    versions.bump(session, loser)
    tags = service.tags_of(session, [survivor_id, loser_id])
    moved = {
        "links": _move_links(session, loser, survivor),
        "feedback": _move_feedback(session, loser, survivor),
        "flags": _move_flags(session, loser, survivor),
        "tags": len(set(tags[loser_id]) - set(tags[survivor_id])),
        "attachments": attachment_review.move(session, loser_id, survivor_id),
    }
    service.set_tags(session, survivor_id, tags[survivor_id] + tags[loser_id])
    extra = loser.solution.strip()
    if append_solution and extra and extra not in survivor.solution:
        survivor.solution = (
            f"{survivor.solution.rstrip()}\n\n（合并自条目 #{loser_id}）\n{extra}"
        ).lstrip()
    # Earlier merges into the loser now point straight at the survivor (one redirect hop).
    redirected = select(Entry).where(col(Entry.merged_into_id) == loser_id)
    earlier = list(session.execute(redirected).scalars())
    for entry in earlier:
        entry.merged_into_id = survivor_id
        session.add(entry)
        changes.record_change(session, entry)
    loser.status = EntryStatus.archived
    loser.merged_into_id = survivor_id
    loser.review_due_at = None
    versions.record(session, loser, actor=actor, note=f"merged into entry {survivor_id}")
    versions.record(
        session,
        survivor,
        actor=actor,
        note=f"merged entry {loser_id} into this "
        f"entry ({moved['links']} links, {moved['feedback']} feedback moved)",
    )
    session.flush()
    return survivor, loser, moved
