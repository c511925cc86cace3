"""Knowledge entries: CRUD with filters and pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import Editor, SessionDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from kbsvc.entries import service
from kbsvc.entries.models import (
    EntriesPublic,
    EntryCreate,
    EntryDetail,
    EntryPublic,
    EntryStatus,
    EntryUpdate,
)

router = APIRouter(prefix="/api/v1/entries", tags=["entries"], responses=ERROR_RESPONSES)


@router.get("", response_model=EntriesPublic)
def list_entries(
    session: SessionDep,
    caller: Viewer,
    system: Annotated[str | None, Query(max_length=100)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    status: EntryStatus | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesPublic:
    """List entries the caller may see (drafts for editors only), with filters, newest first."""
    return service.list_entries(session, system=system, department=department, tag=tag,
                                status=status, offset=offset, limit=limit, principal=caller)


@router.post("", response_model=EntryPublic, status_code=201)
def create_entry(data: EntryCreate, session: SessionDep, caller: Editor) -> EntryPublic:
    """Create a draft entry."""
    entry = service.create(session, data=data, actor=caller.label)
    return service.to_public(session, entry)


@router.get("/{entry_id}", response_model=EntryDetail)
def get_entry(entry_id: int, session: SessionDep, caller: Viewer) -> EntryDetail:
    """One entry with its linked tickets (404 when missing or hidden from the caller)."""
    return service.to_detail(session, service.get(session, entry_id=entry_id, principal=caller))


@router.patch("/{entry_id}", response_model=EntryPublic)
def update_entry(
    entry_id: int, data: EntryUpdate, session: SessionDep, caller: Editor
) -> EntryPublic:
    """Partially update an entry."""
    entry = service.update(session, entry_id=entry_id, data=data, actor=caller.label,
                           principal=caller)
    return service.to_public(session, entry)


@router.delete("/{entry_id}", status_code=204)
def delete_entry(entry_id: int, session: SessionDep, caller: Editor) -> Response:
    """Delete an entry."""
    service.delete(session, entry_id=entry_id, actor=caller.label, principal=caller)
    return Response(status_code=204)
