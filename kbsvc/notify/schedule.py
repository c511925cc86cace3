"""Scheduled notices: review-due (daily) and the director's digest (Mondays), enqueued once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kbsvc.auth import policy
from kbsvc.auth.models import Principal, Role
from kbsvc.config import Settings
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.notify import service
from kbsvc.notify.models import EventType, NotifyChannel
from kbsvc.timeutil import LOCAL_TZ

# What a reviewer of no particular department may see: restricted entries stay out of group chats.
_REVIEWER = Principal(kind="system", name="notify", role=Role.reviewer)
_done: set[str] = set()  # keys this process already handled (saves a query every poll)


def review_due_data(session: Session, now: datetime) -> dict[str, Any] | None:
    due = (col(Entry.status) == EntryStatus.published, col(Entry.review_due_at) <= now)
    total = session.exec(select(func.count()).select_from(Entry).where(*due)).one()
    if not total:
        return None
    titles = session.exec(
        select(col(Entry.title))
        .where(*due, policy.visible_filter(_REVIEWER))
        .order_by(col(Entry.review_due_at), col(Entry.id))
        .limit(20)
    ).all()
    shown = list(titles)
    return {
        "date": now.astimezone(LOCAL_TZ).date().isoformat(),
        "count": total,
        "titles": shown,
        "hidden": max(0, total - len(shown)),
    }


def digest_data(session: Session, settings: Settings, today: date) -> dict[str, Any]:
    from kbsvc.analytics import gaps, reports
    from kbsvc.analytics.sqlfn import Period

    period = Period(start=today - timedelta(days=7), end=today - timedelta(days=1))
    report = gaps.gaps(session, period, settings.analytics, top=5)
    top = reports.top_entries(session, period, limit=5)
    year, week, _ = today.isocalendar()
    return {
        "week": f"{year}-W{week:02d}",
        "searches": report.searches,
        "gap_searches": report.gap_searches,
        "gaps": [f"{t.label}（{t.searches} 次）" for t in report.search_topics],
        "top": [f"{e.title}（引用 {e.citations} 次）" for e in top],
    }


def _wanted(session: Session, event: EventType) -> bool:
    channels = session.exec(select(NotifyChannel).where(col(NotifyChannel.enabled) == True)).all()  # noqa: E712
    return any(event.value in c.events for c in channels)


def enqueue_due(db_engine: Engine, settings: Settings, now: datetime) -> None:
    """Enqueue today's review-due notice and this week's digest once their hour has come."""
    local = now.astimezone(LOCAL_TZ)
    if local.hour < settings.notify.daily_hour:
        return
    jobs = [(EventType.review_due, f"review.due:{local.date()}")]
    if local.weekday() == 0:
        year, week, _ = local.isocalendar()
        jobs.append((EventType.weekly_digest, f"digest.weekly:{year}-W{week:02d}"))
    for event, key in jobs:
        if key in _done:
            continue
        with Session(db_engine) as session:
            if not _wanted(session, event):
                continue  # nobody subscribed yet; look again on a later pass
            if event is EventType.review_due:
                data = review_due_data(session, now)
            else:
                data = digest_data(session, settings, local.date())
            if data is not None:
                service.emit_once(session, event, key, data)
            session.commit()
        _done.add(key)
