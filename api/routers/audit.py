"""Audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, SessionDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.auth import audit
from kbsvc.auth.audit import AuditEventsPublic

router = APIRouter(
    prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


@router.get("", response_model=AuditEventsPublic)
def list_audit(
    session: SessionDep,
    _caller: Admin,
    actor: Annotated[str | None, Query(max_length=120, description="e.g. apikey:sync")] = None,
    action: Annotated[
        str | None, Query(max_length=200, description="'POST /api/v1/entries' or a prefix")
    ] = None,
    object_type: Annotated[str | None, Query(max_length=50)] = None,
    object_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditEventsPublic:
    """Writes and login attempts, newest first; `from` inclusive, `to` exclusive."""
    return audit.list_events(
        session,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
