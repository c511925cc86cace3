"""Knowledge exchange files over HTTP, for admins."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from api.deps import Admin, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.exceptions import TooLarge
from kbsvc.exchange import service
from kbsvc.exchange.models import ImportReport

router = APIRouter(
    prefix="/api/v1/exchange",
    tags=["exchange"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)

Filter = Annotated[str | None, Query(max_length=100)]


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "kbsvc-exchange/1 zip"}},
)
def export(
    session: SessionDep,
    settings: SettingsDep,
    _caller: Admin,
    system: Filter = None,
    department: Filter = None,
    category: Filter = None,
    tag: Filter = None,
    since: date | None = None,
) -> Response:
    """Published, unrestricted entries and the vocabulary as an exchange file."""
    data, manifest = service.export_kb(
        session,
        settings,
        system=system,
        department=department,
        category=category,
        tag=tag,
        since=datetime.combine(since, datetime.min.time()) if since else None,
    )
    name = f"kbsvc-exchange-{manifest.exported_at:%Y%m%d}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/import", response_model=ImportReport)
def import_file(
    session: SessionDep,
    settings: SettingsDep,
    caller: Admin,
    file: Annotated[UploadFile, File(description="A kbsvc-exchange/1 zip from another site")],
) -> ImportReport:
    """Import as drafts for review; importing the same file again changes nothing."""
    limit = settings.limits.max_import_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than {limit} bytes (limits.max_import_bytes)")
    report = service.import_kb(session, settings, data, actor=f"exchange:{caller.label}")
    return report
