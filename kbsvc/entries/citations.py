"""Citations: a ticket used an entry (an EntryLink of kind `cited`), idempotent per ticket."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import Principal, Role
from kbsvc.db import savepoint
from kbsvc.entries import service
from kbsvc.entries.models import Entry, EntryLink, LinkKind
from kbsvc.entries.schemas import CitationPublic, CitationsPublic, CitedEntriesPublic, CitedEntry
from kbsvc.exceptions import Conflict, RateLimited
from kbsvc.tickets.models import Ticket
from kbsvc.timeutil import utcnow

# A widget key sits in the helpdesk page source: whoever reads it could cite entries from every
# ticket id and poison ranking. Its citations are bounded per ticket and per day (each row keeps
# the key in created_by, so a reviewer can find and remove them).
WIDGET_CITES_PER_TICKET = 10
WIDGET_CITES_PER_DAY = 2000


def _check_widget_bounds(session: Session, principal: Principal, source: str, ext: str) -> None:
    cited = col(EntryLink.kind) == LinkKind.cited.value
    on_ticket = session.execute(
        select(func.count()).where(
            cited, col(EntryLink.source) == source, col(EntryLink.external_id) == ext
        )
    ).scalar_one()
    if on_ticket >= WIDGET_CITES_PER_TICKET:
        raise RateLimited(
            f"ticket {ext} already cites {on_ticket} entries; a widget key may add at most "
            f"{WIDGET_CITES_PER_TICKET}",
            retry_after=3600,
        )
    today = session.execute(
        select(func.count()).where(
            cited,
            col(EntryLink.created_by) == principal.label,
            col(EntryLink.created_at) >= utcnow() - timedelta(days=1),
        )
    ).scalar_one()
    if today >= WIDGET_CITES_PER_DAY:
        raise RateLimited(
            f"this widget key recorded {today} citations in 24 h (at most {WIDGET_CITES_PER_DAY})",
            retry_after=3600,
        )


def _public(link: EntryLink, ticket: Ticket | None) -> CitationPublic:
    return CitationPublic(
        entry_id=link.entry_id,
        source=link.source,
        external_id=link.external_id,
        ticket_id=ticket.id if ticket else None,
        ticket_title=ticket.title if ticket else "",
        created_by=link.created_by,
        via_widget=link.created_by.startswith("widget:"),
        created_at=link.created_at,
    )


def cite(
    session: Session,
    *,
    entry_id: int,
    source: str,
    external_id: str,
    actor: str,
    principal: Principal,
) -> tuple[CitationPublic, bool]:
    """Record that a ticket used an entry; returns (citation, created).

    Citing a merged entry cites its survivor. The ticket need not be imported yet.
    """
    entry = service.resolve(session, entry_id=entry_id, principal=principal)
    source, external_id = source.strip(), external_id.strip()
    already = session.execute(_link_stmt(entry.id or 0, source, external_id)).scalar_one_or_none()
    if principal.role is Role.widget and already is None:
        _check_widget_bounds(session, principal, source, external_id)
    try:
        with savepoint(session):
            link, created = service.link_ticket(
                session,
                entry_id=entry.id or 0,
                source=source,
                external_id=external_id,
                kind=LinkKind.cited,
                actor=actor,
            )
    except IntegrityError:
        # A concurrent request recorded the same citation first (only the savepoint is undone).
        found = session.execute(_link_stmt(entry.id or 0, source, external_id)).scalar_one_or_none()
        if found is None:  # the conflict was another concurrent change to the entry
            raise Conflict("the entry changed at the same time; retry", entry_id=entry_id) from None
        link, created = found, False
    ticket = session.execute(
        select(Ticket).where(
            col(Ticket.source) == source,
            col(Ticket.external_id) == external_id,
        )
    ).scalar_one_or_none()
    return _public(link, ticket), created


def _link_stmt(entry_id: int, source: str, external_id: str) -> Select[EntryLink]:
    return select(EntryLink).where(
        col(EntryLink.entry_id) == entry_id,
        col(EntryLink.source) == source,
        col(EntryLink.external_id) == external_id,
        col(EntryLink.kind) == LinkKind.cited,
    )


def citing_tickets(session: Session, *, entry_id: int, principal: Principal) -> CitationsPublic:
    """Tickets that cited an entry, oldest first, with the imported ticket where known."""
    service.get(session, entry_id=entry_id, principal=principal)
    stmt = (
        select(EntryLink, Ticket)
        .outerjoin(
            Ticket,
            (col(Ticket.source) == col(EntryLink.source))
            & (col(Ticket.external_id) == col(EntryLink.external_id)),
        )
        .where(col(EntryLink.entry_id) == entry_id, col(EntryLink.kind) == LinkKind.cited)
        .order_by(col(EntryLink.id))
    )
    data = [_public(link, ticket) for link, ticket in session.execute(stmt).all()]
    return CitationsPublic(data=data, count=len(data))


def cited_by_ticket(
    session: Session, *, source: str, external_id: str, principal: Principal
) -> CitedEntriesPublic:
    """Entries a ticket cited that `principal` may see, oldest citation first."""
    stmt = (
        select(EntryLink, Entry)
        .join(Entry, col(Entry.id) == col(EntryLink.entry_id))
        .where(
            col(EntryLink.source) == source,
            col(EntryLink.external_id) == external_id,
            col(EntryLink.kind) == LinkKind.cited,
            policy.visible_filter(principal),
        )
        .order_by(col(EntryLink.id))
    )
    data = [
        CitedEntry(
            entry_id=entry.id or 0,
            title=entry.title,
            status=str(entry.status),
            merged_into_id=entry.merged_into_id,
            cited_at=link.created_at,
            solution=entry.solution,
            workaround=entry.workaround,
            system=entry.system,
            department=entry.department,
        )
        for link, entry in session.execute(stmt).all()
    ]
    return CitedEntriesPublic(data=data, count=len(data))
