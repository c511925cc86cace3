"""Ticket data access: upsert by (source, external_id), get, list."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.exceptions import NotFound
from kbsvc.tickets.models import Ticket, TicketIn, TicketPublic, TicketsPublic
from kbsvc.timeutil import utcnow
from kbsvc.vocab import mapping as vocab_mapping


def get(session: Session, *, ticket_id: int) -> Ticket:
    """The ticket or NotFound."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} not found", ticket_id=ticket_id)
    return ticket


def get_by_key(session: Session, *, source: str, external_id: str) -> Ticket | None:
    """The ticket with this (source, external_id), if imported."""
    stmt = select(Ticket).where(
        col(Ticket.source) == source, col(Ticket.external_id) == external_id
    )
    return session.execute(stmt).scalar_one_or_none()


def _touch_linked_entries(session: Session, ticket: Ticket) -> None:
    # Entries are indexed with their linked tickets' text (a citation may even predate the
    # import), so the index must re-read them when that text appears or changes.
    from kbsvc.entries import changes
    from kbsvc.entries.models import EntryLink

    stmt = select(col(EntryLink.entry_id)).where(
        col(EntryLink.source) == ticket.source,
        col(EntryLink.external_id) == ticket.external_id,
    )
    for entry_id in sorted(set(session.execute(stmt).scalars())):
        changes.touch(session, entry_id)


def upsert_one(session: Session, item: TicketIn) -> tuple[Ticket, str]:
    """Insert or update one ticket (flushes); the outcome is created, updated or unchanged.

    System, module, department and category are stored in the vocabulary's spelling."""
    ext = item.resolved_external_id()
    fields = vocab_mapping.canonical_fields(
        session, item.model_dump(exclude={"raw", "external_id"})
    )
    existing = get_by_key(session, source=item.source, external_id=ext)
    if existing is None:
        ticket = Ticket(**fields, external_id=ext, raw=item.raw)
        ticket.content_hash = ticket.content_key()
        session.add(ticket)
        session.flush()
        _touch_linked_entries(session, ticket)
        return ticket, "created"
    candidate = Ticket(**fields, external_id=ext)
    new_hash = candidate.content_key()
    if new_hash == existing.content_hash:
        return existing, "unchanged"
    for key, value in fields.items():
        setattr(existing, key, value)
    existing.raw = item.raw or existing.raw
    existing.content_hash = new_hash
    existing.updated_at = utcnow()
    session.add(existing)
    session.flush()
    _touch_linked_entries(session, existing)
    return existing, "updated"


def upsert_many(
    session: Session, *, items: Iterable[TicketIn]
) -> tuple[list[Ticket], dict[str, int]]:
    """Upsert a batch in the caller's transaction; all or nothing (the caller rolls back)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    tickets = []
    for item in items:
        ticket, outcome = upsert_one(session, item)
        counts[outcome] += 1
        tickets.append(ticket)
    session.flush()
    return tickets, counts


def list_tickets(
    session: Session,
    *,
    source: str | None = None,
    system: str | None = None,
    department: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> TicketsPublic:
    """Filtered, paginated tickets, newest first."""
    stmt = select(Ticket)
    if source:
        stmt = stmt.where(col(Ticket.source) == source)
    if system:
        stmt = stmt.where(col(Ticket.system) == system)
    if department:
        stmt = stmt.where(col(Ticket.department) == department)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(col(Ticket.title).like(like) | col(Ticket.symptom).like(like))
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(col(Ticket.id).desc()).offset(offset).limit(limit)
    ).scalars()
    return TicketsPublic(data=[TicketPublic.model_validate(t) for t in rows], count=count)
