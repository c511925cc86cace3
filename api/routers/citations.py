"""Reuse signals: citations, feedback and the review flags feedback raises."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from api.deps import Editor, SessionDep, Viewer, WidgetOrViewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.entries import citations
from kbsvc.entries.schemas import CitationIn, CitationPublic, CitationsPublic, CitedEntriesPublic
from kbsvc.feedback import service as feedback
from kbsvc.feedback.models import (
    FeedbackIn,
    FeedbackPublic,
    FlagPublic,
    FlagReason,
    FlagsPublic,
    FlagStatus,
    ResolveIn,
)

router = APIRouter(
    prefix="/api/v1",
    tags=["citations and feedback"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.post(
    "/entries/{entry_id}/citations",
    response_model=CitationPublic,
    status_code=201,
    responses={200: {"model": CitationPublic, "description": "Already cited"}},
)
def cite(
    entry_id: int, body: CitationIn, session: SessionDep, caller: WidgetOrViewer, response: Response
) -> CitationPublic:
    """Record that a ticket used this entry; citing again is a no-op (200)."""
    citation, created = citations.cite(
        session,
        entry_id=entry_id,
        source=body.source,
        external_id=body.external_id,
        actor=caller.label,
        principal=caller,
    )
    if not created:
        response.status_code = 200
    return citation


@router.get("/entries/{entry_id}/citations", response_model=CitationsPublic)
def citing_tickets(entry_id: int, session: SessionDep, caller: Viewer) -> CitationsPublic:
    """Tickets that cited this entry."""
    return citations.citing_tickets(session, entry_id=entry_id, principal=caller)


@router.get("/tickets/{source}/{external_id}/citations", response_model=CitedEntriesPublic)
def cited_by_ticket(
    source: str, external_id: str, session: SessionDep, caller: WidgetOrViewer
) -> CitedEntriesPublic:
    """Entries a ticket cited (the ticket need not be imported) that the caller may see.

    The widget pins these as 已引用 across re-queries and page reloads.
    """
    return citations.cited_by_ticket(
        session, source=source, external_id=external_id, principal=caller
    )


@router.post(
    "/entries/{entry_id}/feedback",
    response_model=FeedbackPublic,
    status_code=201,
    responses={200: {"model": FeedbackPublic, "description": "Earlier vote updated"}},
)
def give_feedback(
    entry_id: int, body: FeedbackIn, session: SessionDep, caller: WidgetOrViewer, response: Response
) -> FeedbackPublic:
    """Helpful / not helpful, once per ticket (or per caller); not helpful + comment flags it."""
    result, created = feedback.give(
        session, entry_id=entry_id, data=body, actor=caller.label, principal=caller
    )
    if not created:
        response.status_code = 200
    return result


@router.get("/review-flags", response_model=FlagsPublic)
def list_flags(
    session: SessionDep,
    caller: Viewer,
    status: FlagStatus | None = FlagStatus.open,
    entry_id: int | None = None,
    reason: FlagReason | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FlagsPublic:
    """Review flags (open ones by default), oldest first."""
    return feedback.list_flags(
        session,
        status=status,
        entry_id=entry_id,
        reason=reason,
        offset=offset,
        limit=limit,
        principal=caller,
    )


@router.post("/review-flags/{flag_id}/resolve", response_model=FlagPublic)
def resolve_flag(
    flag_id: int,
    session: SessionDep,
    caller: Editor,
    body: Annotated[ResolveIn | None, Body()] = None,
) -> FlagPublic:
    """Close a flag once the entry was fixed or the report judged wrong."""
    return feedback.resolve_flag(
        session, flag_id=flag_id, actor=caller.label, resolution=body.resolution if body else ""
    )
