"""Ticket intake: single and bulk upsert, get, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from api.deps import Editor, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from kbsvc.exceptions import TooLarge
from kbsvc.tickets import service
from kbsvc.tickets.models import TicketIn, TicketPublic, TicketsPublic, TicketUpsertResult

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"], responses=ERROR_RESPONSES)


@router.post("", response_model=TicketUpsertResult, status_code=200)
def upsert_tickets(
    session: SessionDep,
    settings: SettingsDep,
    _caller: Editor,
    payload: Annotated[TicketIn | list[TicketIn], Body()],
) -> TicketUpsertResult:
    """Create or update one ticket or a list, keyed by (source, external_id)."""
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > settings.limits.max_bulk_tickets:
        raise TooLarge(f"at most {settings.limits.max_bulk_tickets} tickets per request")
    tickets, counts = service.upsert_many(session, items=items)
    return TicketUpsertResult(
        **counts, data=[TicketPublic.model_validate(t) for t in tickets]
    )


@router.get("", response_model=TicketsPublic)
def list_tickets(
    session: SessionDep,
    settings: SettingsDep,
    _caller: Viewer,
    source: str | None = None,
    system: str | None = None,
    department: str | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketsPublic:
    """List tickets, newest first."""
    return service.list_tickets(session, source=source, system=system, department=department,
                                q=q, offset=offset, limit=limit)


@router.get("/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: int, session: SessionDep, _caller: Viewer) -> TicketPublic:
    """One ticket."""
    return TicketPublic.model_validate(service.get(session, ticket_id=ticket_id))
