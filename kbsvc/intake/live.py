"""Tickets pushed one at a time (webhook events, the widget's 存为知识): mask, upsert, capture."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from kbsvc.config import PrivacySettings
from kbsvc.entries.capture import capture_ticket
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.privacy.pii import PiiFinding, scrub_ticket_in
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket, TicketIn


@dataclass
class LiveResult:
    ticket: Ticket
    ticket_outcome: str  # created | updated | unchanged
    entry: Entry | None = None
    entry_outcome: str = ""  # created | updated | unchanged | kept ("" = no capture)
    findings: list[PiiFinding] = field(default_factory=list)


def upsert_ticket(
    session: Session, item: TicketIn, *, actor: str, privacy: PrivacySettings, capture: bool
) -> LiveResult:
    """Store the ticket with the site's masking; with `capture`, create or refresh its draft.

    The draft is the ticket's one source-linked entry: pushing the ticket again updates it
    (unless someone else edited it since), never a second one. Flushes; the caller commits.
    """
    masked, findings = scrub_ticket_in(item, privacy)
    ticket, outcome = tickets.upsert_one(session, masked)
    result = LiveResult(ticket=ticket, ticket_outcome=outcome, findings=findings)
    if capture and ticket.solution.strip():
        result.entry, result.entry_outcome = capture_ticket(
            session, ticket, actor=actor, status=EntryStatus.draft, refresh=True, privacy=privacy
        )
    return result
