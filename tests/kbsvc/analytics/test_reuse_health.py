"""Reuse (KCS) and health reports against hand-computed numbers."""

from __future__ import annotations

from sqlmodel import Session

from kbsvc.analytics import reports
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth.models import SYSTEM


def test_link_rate_new_known_by_resolved_month(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.reuse(session, Period(), principal=SYSTEM)
    rows = [(m.month, m.resolved, m.linked, m.link_rate, m.new, m.known) for m in r.by_month]
    assert rows == [
        ("2025-01", 2, 2, 1.0, 1, 1),  # T1 created E1, T2 cited it
        ("2025-02", 1, 1, 1.0, 1, 0),  # T3 created E2
        ("2025-03", 1, 0, 0.0, 0, 0),  # T4 unlinked
        ("2025-04", 1, 1, 1.0, 0, 1),  # T5 (resolved 1 April local) cited E1
    ]
    assert (r.resolved, r.linked, r.link_rate, r.new, r.known, r.unlinked) == (5, 4, 0.8, 2, 2, 1)


def test_reuse_per_entry_and_never_reused(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.reuse(session, Period(), principal=SYSTEM)
    top = [(e.entry_id, e.citations, e.linked_tickets) for e in r.top_entries]
    assert top == [(world.e[0].id, 2, 3), (world.e[1].id, 1, 1)]
    assert r.never_reused_count == 1
    assert [e.entry_id for e in r.never_reused] == [world.e[3].id]


def test_reuse_in_a_period_counts_by_ticket_time(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.reuse(session, Period.parse("2025-01-01", "2025-01-31"), principal=SYSTEM)
    assert [(e.entry_id, e.citations, e.linked_tickets) for e in r.top_entries] == [
        (world.e[0].id, 1, 2)
    ]
    assert (r.resolved, r.linked, r.link_rate) == (2, 2, 1.0)


def test_empty_period_reuse(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.reuse(session, Period.parse("2024-05-01", "2024-05-31"), principal=SYSTEM)
    assert (r.resolved, r.linked, r.link_rate) == (0, 0, None)
    assert [(m.month, m.resolved, m.link_rate) for m in r.by_month] == [("2024-05", 0, None)]
    assert r.top_entries == []


def test_feedback_ratio_absent_or_empty(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    fb = reports.reuse(session, Period(), principal=SYSTEM).feedback
    if reports.optional_table("entry_feedback", "helpful") is None:
        assert fb is None
    else:
        assert fb is not None and fb.ratio is None


def test_health_counts_states(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    h = reports.health(session, Period(), principal=SYSTEM)
    assert h.by_status == {"draft": 1, "in_review": 0, "published": 3, "archived": 0}
    assert h.total == 4
    assert h.published_never_reused == 1
    if reports.optional_table("entries", "review_due_at") is None:
        assert h.overdue_reviews is None
    else:
        assert h.overdue_reviews == 0


def test_feedback_overdue_and_flags(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from kbsvc.feedback.models import Feedback, FlagReason, FlagStatus, ReviewFlag
    from kbsvc.timeutil import utcnow

    e0, e1 = world.e[0], world.e[1]
    session.add_all(
        [
            Feedback(entry_id=e0.id, voter_key="a", helpful=True),
            Feedback(entry_id=e0.id, voter_key="b", helpful=True),
            Feedback(entry_id=e1.id, voter_key="c", helpful=False),
            ReviewFlag(entry_id=e1.id, reason=FlagReason.manual),
            ReviewFlag(entry_id=e0.id, reason=FlagReason.manual, status=FlagStatus.resolved),
        ]
    )
    e0.review_due_at = utcnow() - timedelta(days=1)
    e1.review_due_at = utcnow() + timedelta(days=30)
    session.add_all([e0, e1])
    session.commit()
    fb = reports.reuse(session, Period(), principal=SYSTEM).feedback
    assert fb is not None and (fb.helpful, fb.not_helpful, fb.ratio) == (2, 1, 0.6667)
    h = reports.health(session, Period(), principal=SYSTEM)
    assert h.overdue_reviews == 1 and [x.entry_id for x in h.overdue] == [e0.id]
    assert h.open_flags == 1 and [x.entry_id for x in h.flagged] == [e1.id]
