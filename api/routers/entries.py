"""Knowledge entries: CRUD with filters and pagination."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from api.deps import Admin, Editor, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.auth import policy
from kbsvc.entries import duplicates, removal, revisions, service, workflow
from kbsvc.entries.models import (
    EntriesPublic,
    EntryCreate,
    EntryCreated,
    EntryDetail,
    EntryPublic,
    EntryStatus,
    EntryUpdate,
)
from kbsvc.entries.schemas import PurgeIn, RevisionPublic
from kbsvc.exceptions import ValidationFailed

router = APIRouter(
    prefix="/api/v1/entries",
    tags=["entries"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.get("", response_model=EntriesPublic)
def list_entries(
    session: SessionDep,
    caller: Viewer,
    system: Annotated[str | None, Query(max_length=100)] = None,
    department: Annotated[str | None, Query(max_length=100)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    status: EntryStatus | None = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    mine: bool = False,
    sort: Literal["recent", "reuse"] = "recent",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesPublic:
    """List entries the caller may see (drafts for editors only) by filters alone; `sort`:
    recent (last changed first) or reuse (most cited first); `mine`: entries the caller created.
    """
    return service.list_entries(
        session,
        system=system,
        department=department,
        tag=tag,
        status=status,
        category=category,
        created_by=caller.label if mine else None,
        sort=sort,
        offset=offset,
        limit=limit,
        principal=caller,
    )


@router.post("", response_model=EntryCreated, status_code=201)
def create_entry(
    data: EntryCreate, session: SessionDep, settings: SettingsDep, caller: Editor
) -> EntryCreated:
    """Create a draft entry; `duplicates` lists existing entries that may already cover it."""
    entry = service.create(session, data=data, actor=caller.label)
    found = duplicates.find_duplicates(
        session,
        duplicates.fields_of(entry),
        exclude_id=entry.id,
        principal=caller,
        settings=settings.lifecycle,
    )
    return EntryCreated(**service.to_public(session, entry).model_dump(), duplicates=found)


@router.get("/due", response_model=EntriesPublic)
def entries_due(
    session: SessionDep,
    caller: Viewer,
    before: datetime | None = None,
    system: str | None = None,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EntriesPublic:
    """Published entries due for review at `before` (default: now), most overdue first."""
    return workflow.due(
        session, before=before, system=system, offset=offset, limit=limit, principal=caller
    )


@router.get("/{entry_id}", response_model=EntryDetail)
def get_entry(
    entry_id: int, session: SessionDep, caller: Viewer, response: Response
) -> EntryDetail:
    """One entry with links and counts; a merged entry shows `merged_into_id` (redirect).

    404 when missing or hidden from the caller (drafts, other departments: see auth.policy).
    """
    detail = service.to_detail(session, service.get(session, entry_id=entry_id, principal=caller))
    if not policy.sees_unpublished(caller):
        detail.pending_revision = None  # viewers read the live version only
    response.headers["ETag"] = f'"{detail.version}"'
    return detail


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d+)"?\s*', value)
    if match is None:
        raise ValidationFailed('If-Match must carry the entry version, e.g. If-Match: "3"')
    return int(match.group(1))


@router.patch("/{entry_id}", response_model=EntryPublic)
def update_entry(
    entry_id: int,
    data: EntryUpdate,
    session: SessionDep,
    caller: Editor,
    if_match: Annotated[str | None, Header()] = None,
) -> EntryPublic:
    """Edit an entry based on `base_version` (or If-Match); stale → 409.

    A draft changes in place. A published entry stays as it is: the edit goes into its pending
    revision (`pending_revision` in the answer), which a reviewer publishes as the next version.
    A reviewer may send `publish: true` to publish their own edit directly.
    """
    base = data.base_version if data.base_version is not None else _if_match(if_match)
    if base is None:
        raise ValidationFailed(
            "base_version is required: send the version you edited "
            "(body field base_version or an If-Match header)"
        )
    entry, rev = revisions.edit(
        session, entry_id=entry_id, data=data, principal=caller, base_version=base
    )
    if rev is None:
        rev = revisions.open_revision(session, entry_id)
    return service.to_public(session, entry, pending=revisions.ref(rev) if rev else None)


@router.delete("/{entry_id}", status_code=204)
def delete_entry(entry_id: int, session: SessionDep, caller: Editor) -> Response:
    """Delete a never-published, never-cited draft; anything else is 409 (archive it instead)."""
    removal.delete(session, entry_id=entry_id, principal=caller)
    return Response(status_code=204)


@router.post("/{entry_id}/purge", response_model=EntryDetail)
def purge_entry(entry_id: int, body: PurgeIn, session: SessionDep, caller: Admin) -> EntryDetail:
    """Destroy an entry's content (admin, with a reason); a tombstone keeps id, links and reason."""
    entry = removal.purge(session, entry_id=entry_id, principal=caller, reason=body.reason)
    return service.to_detail(session, entry)


@router.get("/{entry_id}/revision", response_model=RevisionPublic)
def get_revision(entry_id: int, session: SessionDep, caller: Editor) -> RevisionPublic:
    """The pending revision of a published entry, with its differences from the live version."""
    entry = service.get(session, entry_id=entry_id, principal=caller)
    return revisions.to_public(session, entry, revisions.require_open(session, entry_id))


@router.delete("/{entry_id}/revision", status_code=204)
def discard_revision(entry_id: int, session: SessionDep, caller: Editor) -> Response:
    """Discard the pending revision; the live entry is unchanged."""
    service.get(session, entry_id=entry_id, principal=caller)
    revisions.discard(session, entry_id=entry_id, actor=caller.label)
    return Response(status_code=204)
