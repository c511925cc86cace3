"""存为知识: the host page's ticket becomes a ticket plus one draft entry awaiting review."""

from __future__ import annotations

from typing import Any

from sqlmodel import Field, Session, SQLModel

from kbsvc.auth.models import Principal
from kbsvc.config import PrivacySettings
from kbsvc.exceptions import ValidationFailed
from kbsvc.intake.live import upsert_ticket
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import TicketIn
from kbsvc.widget import bounds


class WidgetCaptureIn(SQLModel):
    """The fields the widget read from the host ticket page."""

    source: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=128)
    title: str = Field(default="", max_length=500)
    description: str = ""
    cause: str = ""
    solution: str = ""
    workaround: str = ""
    system: str = Field(default="", max_length=100)
    department: str = Field(default="", max_length=100)


class WidgetCaptureResult(SQLModel):
    """The stored ticket and its draft; `outcome` says what happened to the draft."""

    ticket_id: int
    entry_id: int
    outcome: str  # created | updated | unchanged | kept (someone edited the draft since)
    status: str
    pii_masked: int


def _merged(session: Session, data: WidgetCaptureIn) -> dict[str, Any]:
    """The page's fields over the stored ticket's: a page shows only some of an import's."""
    fields = {k: v for k, v in data.model_dump().items() if v}
    existing = tickets.get_by_key(session, source=data.source, external_id=data.external_id)
    if existing is None:
        return {"channel": "widget", **fields}
    base = existing.model_dump(include=set(TicketIn.model_fields) - {"raw"})
    return {**base, **fields}


def save_as_knowledge(
    session: Session, data: WidgetCaptureIn, *, principal: Principal, privacy: PrivacySettings
) -> WidgetCaptureResult:
    """Upsert the ticket and create or refresh its draft (flushes; the caller commits).

    A widget key's captures are bounded per ticket and per day (kbsvc/widget/bounds.py).
    """
    if not data.solution.strip():
        raise ValidationFailed("工单还没有处理方法：填写处理方法后再存为知识", field="solution")
    bounds.check_capture(session, principal, source=data.source, external_id=data.external_id)
    actor = principal.label
    item = TicketIn(**_merged(session, data))
    result = upsert_ticket(session, item, actor=actor, privacy=privacy, capture=True)
    entry = result.entry
    assert entry is not None and entry.id is not None  # a solution always captures
    return WidgetCaptureResult(
        ticket_id=result.ticket.id or 0,
        entry_id=entry.id,
        outcome=result.entry_outcome,
        status=str(entry.status),
        pii_masked=len(result.findings),
    )
