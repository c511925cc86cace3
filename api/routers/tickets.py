"""Ticket intake: single and bulk upsert, get, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, File, Query, UploadFile

from api.deps import Editor, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.auth.models import Role
from kbsvc.exceptions import Forbidden, TooLarge, ValidationFailed
from kbsvc.intake import CaptureMode
from kbsvc.intake.mapping import parse_map_options
from kbsvc.intake.models import ImportReport
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_table
from kbsvc.privacy.pii import scrub_ticket_in
from kbsvc.tickets import service
from kbsvc.tickets.models import TicketIn, TicketPublic, TicketsPublic, TicketUpsertResult

router = APIRouter(
    prefix="/api/v1/tickets",
    tags=["tickets"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)
# Row errors beyond this many are counted but not listed in the response.
MAX_REPORTED_ERRORS = 1000


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
    # Patient identifiers are masked before storage unless privacy.keep_raw_ticket_text is set.
    items = [scrub_ticket_in(item, settings.privacy)[0] for item in items]
    tickets, counts = service.upsert_many(session, items=items)
    return TicketUpsertResult(**counts, data=[TicketPublic.model_validate(t) for t in tickets])


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
    return service.list_tickets(
        session,
        source=source,
        system=system,
        department=department,
        q=q,
        offset=offset,
        limit=limit,
    )


@router.get("/{ticket_id}", response_model=TicketPublic)
def get_ticket(ticket_id: int, session: SessionDep, _caller: Viewer) -> TicketPublic:
    """One ticket."""
    return TicketPublic.model_validate(service.get(session, ticket_id=ticket_id))


@router.post("/import", response_model=ImportReport, status_code=200)
def import_tickets(
    session: SessionDep,
    settings: SettingsDep,
    caller: Editor,
    file: Annotated[UploadFile, File(description="CSV (UTF-8/GB18030), XLSX or JSONL export")],
    source: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    map: Annotated[list[str], Query(description="FIELD=COLUMN, repeatable")] = [],  # noqa: A002,B006
    capture: CaptureMode = CaptureMode.none,
    strict: bool = False,
) -> ImportReport:
    """Import a helpdesk export (multipart `file`); same rules and counts as `kbsvc import`."""
    if capture is CaptureMode.published and not caller.has(Role.reviewer):
        raise Forbidden("capturing published entries needs the reviewer role")
    limit = settings.limits.max_import_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(
            f"the file is larger than {limit} bytes (limits.max_import_bytes)", max_bytes=limit
        )
    table = read_table(data, file.filename or "", max_rows=settings.limits.max_import_rows)
    report = import_table(
        session,
        table,
        source=source,
        mapping=parse_map_options(map),
        capture=capture,
        strict=strict,
        actor=f"import:{caller.label}",
        privacy=settings.privacy,
    )
    if not report.committed:
        raise ValidationFailed(
            f"{report.invalid} invalid rows; strict import wrote nothing",
            errors=[e.model_dump() for e in report.errors[:MAX_REPORTED_ERRORS]],
        )
    report.errors = report.errors[:MAX_REPORTED_ERRORS]
    return report
