"""Small make_* helpers for test data."""

from __future__ import annotations

import itertools
from typing import Any

from sqlmodel import Session

from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryCreate, EntryStatus
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket, TicketIn

_ids = itertools.count(1)


def ticket_data(**over: Any) -> dict[str, Any]:
    """A plausible resolved ticket as a dict."""
    n = next(_ids)
    data: dict[str, Any] = {
        "source": "test",
        "external_id": f"T-{n:05d}",
        "title": "门诊医生站无法登录",
        "symptom": "心内科门诊医生站登录时提示CA证书无效，无法登录",
        "cause": "CA Key证书过期",
        "solution": "1. 联系CA厂商更新证书\n2. 重新插拔CA Key并在证书助手中刷新",
        "workaround": "使用临时账号登录",
        "system": "HIS",
        "module": "门诊医生站",
        "department": "心内科",
        "category": "登录与账号",
        "tags": "CA证书，登录",
    }
    data.update(over)
    return data


def make_ticket(session: Session, **over: Any) -> Ticket:
    ticket, _ = tickets.upsert_one(session, TicketIn(**ticket_data(**over)))
    session.commit()
    return ticket


def make_entry(session: Session, status: EntryStatus = EntryStatus.published, **over: Any) -> Entry:
    data = {
        "title": "门诊医生站CA证书过期导致无法登录",
        "symptom": "医生站登录提示证书无效",
        "cause": "CA Key证书过期",
        "solution": "更新CA证书后重新登录",
        "system": "HIS",
        "module": "门诊医生站",
        "department": "心内科",
        "category": "登录与账号",
        "tags": ["CA证书", "登录"],
    }
    data.update(over)
    entry = entries.create(session, data=EntryCreate(**data), actor="test", status=status)
    session.commit()  # services only flush; test data is committed so the app under test sees it
    return entry
