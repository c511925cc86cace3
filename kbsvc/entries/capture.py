"""Capture: a knowledge entry prefilled from a resolved ticket, linked to it as its source."""

from __future__ import annotations

import re
from typing import Any, Protocol

from sqlalchemy import select
from sqlmodel import Session, SQLModel, col

from kbsvc.auth.models import SYSTEM, Principal
from kbsvc.config import PrivacySettings, Settings, get_settings
from kbsvc.entries import service as entries
from kbsvc.entries.duplicates import fields_of, find_duplicates
from kbsvc.entries.models import (
    DuplicateCandidate,
    Entry,
    EntryCreate,
    EntryLink,
    EntryPublic,
    EntryStatus,
    EntryUpdate,
    LinkKind,
)
from kbsvc.privacy.pii import PiiFinding, scrub_ticket_fields
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket

TITLE_MAX = 40
MAX_TAGS = 6
# Clause breaks; a '.' only when not inside a number or an IP address.
_CLAUSE = re.compile(r"[，。；;,！!？?\n]|\.(?!\d)")
_PREFILLED = (
    "title",
    "symptom",
    "cause",
    "solution",
    "workaround",
    "system",
    "module",
    "department",
    "category",
)


class SourceTicket(SQLModel):
    id: int
    source: str
    external_id: str
    title: str


class CapturePublic(EntryPublic):
    """The captured entry plus the tags suggested for it and the ticket it came from."""

    suggested_tags: list[str]
    source_ticket: SourceTicket
    # What patient-identifier masking replaced (offsets into the ticket's fields).
    pii_findings: list[PiiFinding] = []
    # Existing entries that may already cover this fault: link the ticket there instead (KCS).
    duplicates: list[DuplicateCandidate] = []


class TicketText(Protocol):
    """What a prefill reads of a ticket: a stored Ticket, or an import's masked TicketIn."""

    external_id: str
    title: str
    symptom: str
    description: str
    cause: str
    solution: str
    workaround: str
    system: str
    module: str
    department: str
    category: str
    tags: list[str]


def derive_title(ticket: TicketText) -> str:
    """The ticket's title, else the first clause of its symptom (≤ 40 chars)."""
    if ticket.title.strip():
        return ticket.title.strip()[:300]
    for text in (ticket.symptom, ticket.description, ticket.solution):
        for clause in _CLAUSE.split(text or ""):
            clause = clause.strip(" \t:：-—")
            if len(clause) >= 2 and not clause.isdigit():
                return clause[:TITLE_MAX]
    return f"工单 {ticket.external_id}"[:300]


def suggest_ticket_tags(ticket: TicketText) -> list[str]:
    """The ticket's own tags, then jieba TF-IDF keywords of its text (at most six)."""
    from indexer.keywords import suggest_tags

    texts = [ticket.title, ticket.symptom, ticket.description, ticket.cause]
    return suggest_tags(
        texts,
        ticket.tags,
        limit=MAX_TAGS,
        exclude=[ticket.department],
        extra=[ticket.solution, ticket.workaround],
    )


def prefill(ticket: TicketText, privacy: PrivacySettings) -> EntryCreate:
    """Entry fields carried over from a ticket, patient identifiers masked, with suggested tags."""
    return masked_prefill(ticket, privacy)[0]


def masked_prefill(
    ticket: TicketText, privacy: PrivacySettings
) -> tuple[EntryCreate, list[PiiFinding]]:
    """The prefill masked, then validated once (what was masked, for the capture form)."""
    fields, findings = scrub_ticket_fields(prefill_fields(ticket), privacy)
    return EntryCreate(**fields), findings


def _masked(data: EntryCreate, privacy: PrivacySettings) -> tuple[EntryCreate, list[PiiFinding]]:
    fields, findings = scrub_ticket_fields(data.model_dump(), privacy)
    return EntryCreate(**fields), findings


def prefill_fields(ticket: TicketText) -> dict[str, Any]:
    """The entry fields a ticket prefills, not yet masked or validated."""
    return {
        "title": derive_title(ticket),
        "symptom": ticket.symptom or ticket.description,
        "cause": ticket.cause,
        "solution": ticket.solution,
        "workaround": ticket.workaround,
        "system": ticket.system,
        "module": ticket.module,
        "department": ticket.department,
        "category": ticket.category,
        "tags": suggest_ticket_tags(ticket),
    }


def find_source_entry(session: Session, *, source: str, external_id: str) -> Entry | None:
    """The entry captured from this ticket (linked as its source), if any."""
    stmt = (
        select(Entry)
        .join(EntryLink, col(EntryLink.entry_id) == col(Entry.id))
        .where(
            col(EntryLink.source) == source,
            col(EntryLink.external_id) == external_id,
            col(EntryLink.kind) == LinkKind.source,
        )
        .order_by(col(Entry.id))
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def capture_ticket(
    session: Session,
    ticket: Ticket,
    *,
    actor: str,
    status: EntryStatus = EntryStatus.draft,
    refresh: bool = False,
    privacy: PrivacySettings,
    data: EntryCreate | None = None,
) -> tuple[Entry, str]:
    """Create the ticket's entry, or with `refresh` bring it in line with the ticket (no commit).

    Returns (entry, outcome): created, updated, unchanged, or kept when someone other than
    `actor` edited the entry since (their edits win over a re-import).
    """
    entry = find_source_entry(session, source=ticket.source, external_id=ticket.external_id)
    if entry is None:
        # The editor's own wording (from the capture form) is masked like the prefill.
        fields = prefill(ticket, privacy) if data is None else _masked(data, privacy)[0]
        entry = entries.create(session, data=fields, actor=actor, status=status)
        entries.link_ticket(
            session,
            entry_id=entry.id or 0,
            source=ticket.source,
            external_id=ticket.external_id,
            kind=LinkKind.source,
            actor=actor,
        )
        return entry, "created"
    if not refresh:
        return entry, "unchanged"
    if entry.updated_by != actor:
        return entry, "kept"
    data = prefill(ticket, privacy)
    diff = {k: getattr(data, k) for k in _PREFILLED if getattr(entry, k) != getattr(data, k)}
    current_tags = entries.tags_of(session, [entry.id or 0])[entry.id or 0]
    if sorted(current_tags) != sorted(data.tags):
        diff["tags"] = data.tags
    if not diff:
        return entry, "unchanged"
    # The import owns this draft (the caller decided to refresh it): a system job.
    entries.update(
        session,
        entry_id=entry.id or 0,
        data=EntryUpdate(**diff),
        actor=actor,
        principal=SYSTEM,
    )
    return entry, "updated"


def capture(
    session: Session,
    *,
    ticket_id: int,
    actor: str,
    principal: Principal,
    settings: Settings | None = None,
    data: EntryCreate | None = None,
) -> tuple[CapturePublic, bool]:
    """Capture a ticket: (entry, created), from `data` (the editor's form) or the prefill.

    An already captured ticket returns its entry and creates nothing."""
    cfg = settings or get_settings()
    ticket = tickets.get(session, ticket_id=ticket_id)
    entry, outcome = capture_ticket(session, ticket, actor=actor, privacy=cfg.privacy, data=data)
    session.flush()
    public = entries.to_public(session, entry)
    suggested = suggest_ticket_tags(ticket)  # entry tags come back sorted; this keeps rank
    source = SourceTicket(
        id=ticket.id or 0, source=ticket.source, external_id=ticket.external_id, title=ticket.title
    )
    findings = masked_prefill(ticket, cfg.privacy)[1]
    dups = find_duplicates(
        session, fields_of(entry), exclude_id=entry.id, principal=principal, settings=cfg.lifecycle
    )
    return CapturePublic(
        **public.model_dump(),
        suggested_tags=suggested,
        source_ticket=source,
        pii_findings=findings,
        duplicates=dups,
    ), outcome == "created"
