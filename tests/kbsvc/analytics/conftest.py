"""A small hand-computed world: six tickets, four entries, five links (see each test's maths)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session

from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryStatus, LinkKind
from kbsvc.tickets.models import Ticket
from tests.factories import make_entry, make_ticket


@dataclass
class World:
    t: list[Ticket]
    e: list[Entry]


def _link(session: Session, entry: Entry, ext: str, kind: LinkKind) -> None:
    entries.link_ticket(
        session, entry_id=entry.id or 0, source="test", external_id=ext, kind=kind, actor="test"
    )
    session.commit()


@pytest.fixture
def world(session: Session) -> World:
    """Times are hospital-local; T5 opens on 31 March 23:30 and is resolved on 1 April."""
    t = [
        make_ticket(
            session,
            external_id="T1",
            department="心内科",
            system="HIS",
            category="登录",
            opened_at="2025-01-10 09:00",
            resolved_at="2025-01-10 11:00",
        ),
        make_ticket(
            session,
            external_id="T2",
            department="心内科",
            system="HIS",
            category="登录",
            opened_at="2025-01-20 08:00",
            resolved_at="2025-01-20 14:00",
        ),
        make_ticket(
            session,
            external_id="T3",
            department="检验科",
            system="LIS",
            category="接口",
            title="LIS结果回传失败",
            symptom="检验结果传不回HIS",
            opened_at="2025-02-05 10:00",
            resolved_at="2025-02-06 10:00",
        ),
        make_ticket(
            session,
            external_id="T4",
            department="",
            system="HIS",
            category="",
            title="病区打印机卡纸",
            symptom="护士站针式打印机卡纸，腕带打不出来",
            cause="",
            solution="清理卡纸",
            tags="",
            opened_at="2025-03-01 09:00",
            resolved_at="2025-03-01 10:00",
        ),
        make_ticket(
            session,
            external_id="T5",
            department="检验科",
            system="HIS",
            category="登录",
            opened_at="2025-03-31 23:30",
            resolved_at="2025-04-01 00:30",
        ),
        make_ticket(
            session,
            external_id="T6",
            department="放射科",
            system="PACS",
            category="",
            opened_at="2025-04-10 09:00",
            resolved_at=None,
        ),
    ]
    e = [
        make_entry(session, title="医生站CA证书过期无法登录", system="HIS"),
        make_entry(session, title="LIS检验结果回传HIS失败", symptom="检验结果传不回", system="LIS"),
        make_entry(session, status=EntryStatus.draft, title="草稿", system="HIS"),
        make_entry(session, title="从未被引用的知识", system="HIS"),
    ]
    _link(session, e[0], "T1", LinkKind.source)
    _link(session, e[0], "T2", LinkKind.cited)
    _link(session, e[0], "T5", LinkKind.cited)
    _link(session, e[1], "T3", LinkKind.source)
    _link(session, e[1], "EXT-999", LinkKind.cited)  # a citing ticket not imported yet
    return World(t, e)
