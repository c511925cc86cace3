"""Record feedback (one vote per ticket or caller) and manage review flags."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.db import savepoint
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.feedback.models import (
    Feedback,
    FeedbackIn,
    FeedbackPublic,
    FlagPublic,
    FlagReason,
    FlagsPublic,
    FlagStatus,
    ReviewFlag,
)
from kbsvc.notify import events
from kbsvc.timeutil import utcnow
from kbsvc.widget import bounds
from kbsvc.widget.bounds import is_widget


def voter_key(data: FeedbackIn, actor: str) -> str:
    """Feedback counts once per ticket when a ticket is named, else once per caller.

    `source` alone names the channel (the entry page, a widget with no ticket open), not a
    ticket: such a vote counts once per caller.
    """
    if data.external_id and not data.source:
        raise ValidationFailed("a ticket needs its source system as well as external_id")
    if data.external_id:
        return f"ticket:{data.source}:{data.external_id}"
    return f"principal:{actor}"


def raise_flag(
    session: Session,
    *,
    entry_id: int,
    reason: FlagReason,
    comment: str,
    actor: str,
    feedback_id: int | None = None,
    notify: bool = True,
) -> ReviewFlag:
    """Open a review flag (no commit); `notify=False` when the caller sends one summary."""
    flag = ReviewFlag(
        entry_id=entry_id, reason=reason, comment=comment, created_by=actor, feedback_id=feedback_id
    )
    session.add(flag)
    session.flush()
    if notify:
        events.flag_opened(
            session, flag_id=flag.id or 0, entry_id=entry_id, reason=str(reason), comment=comment
        )
    return flag


def _flag_for_feedback(session: Session, fb: Feedback, actor: str) -> ReviewFlag | None:
    """Not helpful + comment → an open flag (one per vote; a repeat updates its comment)."""
    if fb.helpful or not fb.comment.strip():
        return None
    stmt = select(ReviewFlag).where(
        col(ReviewFlag.feedback_id) == fb.id,
        col(ReviewFlag.status) == FlagStatus.open,
    )
    flag = session.execute(stmt).scalar_one_or_none()
    if flag is not None:
        flag.comment = fb.comment
        session.add(flag)
        return flag
    return raise_flag(
        session,
        entry_id=fb.entry_id,
        reason=FlagReason.feedback,
        comment=fb.comment,
        actor=actor,
        feedback_id=fb.id,
    )


def give(
    session: Session, *, entry_id: int, data: FeedbackIn, actor: str, principal: Principal
) -> tuple[FeedbackPublic, bool]:
    """Record or update a vote on an entry `principal` may see; returns (feedback, created)."""
    entry = entries.resolve(session, entry_id=entry_id, principal=principal)
    key = voter_key(data, actor)
    for _attempt in range(2):
        stmt = select(Feedback).where(
            col(Feedback.entry_id) == entry.id,
            col(Feedback.voter_key) == key,
        )
        fb = session.execute(stmt).scalar_one_or_none()
        created = fb is None
        bounds.check_vote(
            session, principal, source=data.source, external_id=data.external_id, new=created
        )
        if fb is None:
            fb = Feedback(
                entry_id=entry.id or 0,
                voter_key=key,
                helpful=data.helpful,
                comment=data.comment.strip(),
                source=data.source,
                external_id=data.external_id,
                created_by=actor,
            )
        else:
            fb.helpful, fb.comment, fb.updated_at = data.helpful, data.comment.strip(), utcnow()
        try:
            with savepoint(session):
                session.add(fb)
                session.flush()
        except IntegrityError:
            continue  # a concurrent first vote won; update it instead
        flag = _flag_for_feedback(session, fb, actor)
        session.flush()
        out = FeedbackPublic.model_validate(
            fb, update={"flag_id": flag.id if flag else None, "via_widget": is_widget(actor)}
        )
        return out, created
    raise Conflict("feedback was being recorded concurrently; try again")


def _flag_public(flag: ReviewFlag, title: str) -> FlagPublic:
    return FlagPublic.model_validate(
        flag, update={"entry_title": title, "via_widget": is_widget(flag.created_by)}
    )


def list_flags(
    session: Session,
    *,
    status: FlagStatus | None = FlagStatus.open,
    entry_id: int | None = None,
    reason: FlagReason | None = None,
    offset: int = 0,
    limit: int = 50,
    principal: Principal,
) -> FlagsPublic:
    """Review flags on entries `principal` may see, oldest first (the queue order)."""
    stmt = (
        select(ReviewFlag, col(Entry.title))
        .join(Entry, col(Entry.id) == col(ReviewFlag.entry_id))
        .where(policy.visible_filter(principal))
    )
    if status:
        stmt = stmt.where(col(ReviewFlag.status) == status)
    if entry_id:
        stmt = stmt.where(col(ReviewFlag.entry_id) == entry_id)
    if reason:
        stmt = stmt.where(col(ReviewFlag.reason) == reason)
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(col(ReviewFlag.id)).offset(offset).limit(limit)).all()
    return FlagsPublic(data=[_flag_public(f, t) for f, t in rows], count=count)


def resolve_flag(session: Session, *, flag_id: int, actor: str, resolution: str = "") -> FlagPublic:
    """Close a flag; resolving a closed flag again is a Conflict."""
    flag = session.get(ReviewFlag, flag_id)
    if flag is None:
        raise NotFound(f"review flag {flag_id} not found", flag_id=flag_id)
    if flag.status == FlagStatus.resolved:
        raise Conflict(f"review flag {flag_id} is already resolved", flag_id=flag_id)
    flag.status, flag.resolved_by, flag.resolved_at = FlagStatus.resolved, actor, utcnow()
    flag.resolution = resolution
    session.add(flag)
    session.flush()
    entry = session.get(Entry, flag.entry_id)
    return _flag_public(flag, entry.title if entry else "")
