"""Bounds on what a widget key writes: votes and 存为知识 captures, per ticket and per key.

A widget key sits in the helpdesk page's source, so anyone who reads it can write with it.
People (signed in, or with their own keys) are not bounded here; widget keys are, per ticket
and per rolling 24 h, and over the bound answer 429 with Retry-After. Everything a widget key
writes carries `widget:<key name>` as its author (kbsvc/auth/service.py), so a reviewer sees
it as such (`via_widget` on citations, feedback and flags) and can find and undo it.
Citations have their own bounds in kbsvc/entries/citations.py.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.auth.models import AuditEvent, Principal, Role
from kbsvc.exceptions import RateLimited
from kbsvc.feedback.models import Feedback
from kbsvc.tickets.models import Ticket
from kbsvc.timeutil import utcnow

VOTES_PER_TICKET = 10  # entries one ticket may vote on
VOTES_PER_DAY = 500  # votes (new or changed) per key
CAPTURES_PER_TICKET = 20  # 存为知识 of one ticket per 24 h (each refreshes its draft)
CAPTURES_PER_DAY = 200  # per key
# The capture route's audit action: each successful capture is one audit event (api.uow).
CAPTURE_ACTION = "POST /api/v1/widget/capture"
RETRY_AFTER_S = 3600
DAY = timedelta(days=1)


def is_widget(label: str) -> bool:
    """True for what a widget key wrote (its author label)."""
    return label.startswith("widget:")


def _refuse(message: str, **details: object) -> RateLimited:
    return RateLimited(message, retry_after=RETRY_AFTER_S, **details)


def check_vote(
    session: Session, principal: Principal, *, source: str, external_id: str, new: bool
) -> None:
    """Raise RateLimited when a widget key's vote would pass its ticket or daily bound."""
    if principal.role is not Role.widget:
        return
    if new and external_id:
        on_ticket = session.execute(
            select(func.count()).where(
                col(Feedback.source) == source, col(Feedback.external_id) == external_id
            )
        ).scalar_one()
        if on_ticket >= VOTES_PER_TICKET:
            raise _refuse(
                f"工单 {external_id} 已对 {on_ticket} 条知识评价，小部件最多 {VOTES_PER_TICKET} 条",
                limit=VOTES_PER_TICKET,
            )
    today = session.execute(
        select(func.count()).where(
            col(Feedback.created_by) == principal.label,
            col(Feedback.updated_at) >= utcnow() - DAY,
        )
    ).scalar_one()
    if today >= VOTES_PER_DAY:
        raise _refuse(
            f"此小部件密钥 24 小时内已评价 {today} 次（上限 {VOTES_PER_DAY}）", limit=VOTES_PER_DAY
        )


def check_capture(session: Session, principal: Principal, *, source: str, external_id: str) -> None:
    """Raise RateLimited when a widget key's capture would pass its ticket or daily bound."""
    if principal.role is not Role.widget:
        return
    since = utcnow() - DAY
    mine = session.execute(
        select(func.count()).where(
            col(AuditEvent.actor) == principal.label,
            col(AuditEvent.action) == CAPTURE_ACTION,
            col(AuditEvent.at) >= since,
        )
    ).scalar_one()
    if mine >= CAPTURES_PER_DAY:
        raise _refuse(
            f"此小部件密钥 24 小时内已存为知识 {mine} 次（上限 {CAPTURES_PER_DAY}）",
            limit=CAPTURES_PER_DAY,
        )
    ticket_id = session.execute(
        select(col(Ticket.id)).where(
            col(Ticket.source) == source, col(Ticket.external_id) == external_id
        )
    ).scalar_one_or_none()
    if ticket_id is None:
        return
    on_ticket = session.execute(
        select(func.count()).where(
            col(AuditEvent.action) == CAPTURE_ACTION,
            col(AuditEvent.object_id) == str(ticket_id),
            col(AuditEvent.actor).startswith("widget:"),
            col(AuditEvent.at) >= since,
        )
    ).scalar_one()
    if on_ticket >= CAPTURES_PER_TICKET:
        raise _refuse(
            f"工单 {external_id} 24 小时内已存为知识 {on_ticket} 次（上限 {CAPTURES_PER_TICKET}）",
            limit=CAPTURES_PER_TICKET,
        )
