"""One-click capture: a draft knowledge entry from a resolved ticket."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from api.deps import Editor, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.entries import capture as service
from kbsvc.entries.capture import CapturePublic
from kbsvc.entries.models import EntryCreate

router = APIRouter(
    prefix="/api/v1/tickets",
    tags=["capture"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.post(
    "/{ticket_id}/capture",
    response_model=CapturePublic,
    status_code=201,
    responses={200: {"model": CapturePublic, "description": "Already captured: the entry"}},
)
def capture_ticket(
    ticket_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Editor,
    response: Response,
    body: Annotated[EntryCreate | None, Body()] = None,
) -> CapturePublic:
    """Create a draft entry from the ticket (201): from `body` (the editor's edited form) or
    prefilled from the ticket; an already captured ticket returns its entry (200)."""
    entry, created = service.capture(
        session,
        ticket_id=ticket_id,
        actor=caller.label,
        principal=caller,
        settings=settings,
        data=body,
    )
    if not created:
        response.status_code = 200
    return entry
