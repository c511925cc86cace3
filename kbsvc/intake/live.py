"""Tickets pushed one at a time (webhook events, the widget's 存为知识): mask, upsert, capture."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from kbsvc.config import PrivacySettings
from kbsvc.entries.capture import capture_ticket, find_source_entry
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.privacy.pii import PiiFinding, scrub_ticket_in
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket, TicketIn


@dataclass
class LiveResult:
    ticket: Ticket
    ticket_outcome: str  # created | updated | unchanged
    entry: Entry | None = None
    # created | updated | unchanged | kept (edited by someone else, or no longer a draft);
    # "" = no capture
    entry_outcome: str = ""
    findings: list[PiiFinding] = field(default_factory=list)


def upsert_ticket(
    session: Session, item: TicketIn, *, actor: str, privacy: PrivacySettings, capture: bool
) -> LiveResult:
    """Store the ticket with the site's masking; with `capture`, create or refresh its draft.

    The draft is the ticket's one source-linked entry: pushing the ticket again updates it
    (unless someone else edited it, or it left draft), never a second one. Flushes only.
    """
    masked, findings = scrub_ticket_in(item, privacy)
    ticket, outcome = tickets.upsert_one(session, masked)
    result = LiveResult(ticket=ticket, ticket_outcome=outcome, findings=findings)
    if capture and ticket.solution.strip():
        # Only a draft follows its ticket: once submitted or published, changes go through review.
        existing = find_source_entry(session, source=ticket.source, external_id=ticket.external_id)
        refresh = existing is None or existing.status == EntryStatus.draft
        result.entry, result.entry_outcome = capture_ticket(
            session, ticket, actor=actor, status=EntryStatus.draft, refresh=refresh, privacy=privacy
        )
        if not refresh:
            result.entry_outcome = "kept"
    return result
