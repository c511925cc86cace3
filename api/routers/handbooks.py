"""Topic handbooks: definitions, editions and exports (PDF, DOCX, HTML, Markdown)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from api.deps import Editor, ExportLimiterDep, SearchEngineDep, SessionDep, SettingsDep, Viewer
from api.errors import ERROR_RESPONSES, MAX_OFFSET
from api.uow import UnitOfWorkRoute
from kbsvc.handbooks import assemble, editions, export, jobs, service
from kbsvc.handbooks.models import (
    EditionPublic,
    EditionsPublic,
    ExportFormat,
    ExportJobPublic,
    ExportRequest,
    HandbookCreate,
    HandbookPublic,
    HandbooksPublic,
    HandbookUpdate,
)

router = APIRouter(
    prefix="/api/v1/handbooks",
    tags=["handbooks"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)

_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The rendered handbook",
        "content": {media.split(";")[0]: {} for media in export.MEDIA_TYPES.values()},
    },
}


def content_disposition(name: str) -> str:
    """attachment with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode().strip(" ._-") or "handbook"
    if "." not in ascii_name:
        ascii_name = "handbook." + name.rsplit(".", 1)[-1]
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get("/export-jobs/{job_id}", response_model=ExportJobPublic)
def get_export_job(job_id: int, session: SessionDep, caller: Viewer) -> ExportJobPublic:
    """A background export's status and progress (to whoever asked for it, and admins)."""
    return jobs.to_public(jobs.get_for(session, job_id=job_id, principal=caller))


@router.get("/export-jobs/{job_id}/download", response_class=Response, responses=_EXPORT_RESPONSES)
def download_export_job(job_id: int, session: SessionDep, caller: Viewer) -> Response:
    """The file a finished background export produced (409 while it is still running)."""
    job = jobs.result_of(session, job_id=job_id, principal=caller)
    fmt = ExportFormat(job.format)
    return Response(
        job.result, media_type=export.MEDIA_TYPES[fmt], headers=_file_headers(job.filename, fmt)
    )


@router.get("", response_model=HandbooksPublic)
def list_handbooks(
    session: SessionDep,
    _caller: Viewer,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HandbooksPublic:
    """Saved handbooks, newest first."""
    return service.list_handbooks(session, offset=offset, limit=limit)


@router.post("", response_model=HandbookPublic, status_code=201)
def create_handbook(data: HandbookCreate, session: SessionDep, caller: Editor) -> HandbookPublic:
    """Save a handbook definition (title, selection, grouping, cap)."""
    handbook = service.create(session, data=data, actor=caller.label)
    return service.to_public(session, handbook, editions=0)


@router.get("/{handbook_id}", response_model=HandbookPublic)
def get_handbook(handbook_id: int, session: SessionDep, _caller: Viewer) -> HandbookPublic:
    """One handbook definition."""
    return service.to_public(session, service.get(session, handbook_id=handbook_id))


@router.patch("/{handbook_id}", response_model=HandbookPublic)
def update_handbook(
    handbook_id: int, data: HandbookUpdate, session: SessionDep, caller: Editor
) -> HandbookPublic:
    """Change a definition; published editions stay as they were frozen."""
    handbook = service.update(session, handbook_id=handbook_id, data=data, actor=caller.label)
    return service.to_public(session, handbook)


@router.post("/{handbook_id}/editions", response_model=EditionPublic, status_code=201)
def publish_edition(
    handbook_id: int,
    session: SessionDep,
    settings: SettingsDep,
    search: SearchEngineDep,
    caller: Editor,
) -> EditionPublic:
    """Freeze the entries the handbook selects now as its next edition."""
    edition = editions.publish_edition(
        session,
        handbook_id=handbook_id,
        actor=caller.label,
        settings=settings,
        search=search,
    )
    return editions.edition_public(session, edition, principal=caller)


@router.get("/{handbook_id}/editions", response_model=EditionsPublic)
def list_editions(handbook_id: int, session: SessionDep, caller: Viewer) -> EditionsPublic:
    """Editions of a handbook with what changed in each (entries the caller may see), newest
    first."""
    return editions.list_editions(session, handbook_id=handbook_id, principal=caller)


@router.post("/{handbook_id}/exports", response_model=ExportJobPublic, status_code=202)
def start_export_job(
    handbook_id: int,
    data: ExportRequest,
    session: SessionDep,
    settings: SettingsDep,
    caller: Viewer,
) -> ExportJobPublic:
    """Queue an export (live selection or one edition) to run in the background; poll
    `GET /export-jobs/{id}` for progress, then download the file from its `download_url`.
    The file holds only entries the caller may see; `warning` says when links would point at a
    loopback address (set KBSVC_PUBLIC_BASE_URL)."""
    job = jobs.enqueue(
        session, handbook_id=handbook_id, request=data, principal=caller, settings=settings
    )
    return jobs.to_public(job)


def _file_headers(name: str, fmt: ExportFormat) -> dict[str, str]:
    headers = {
        "Content-Disposition": content_disposition(name),
        "X-Content-Type-Options": "nosniff",
    }
    if fmt is ExportFormat.html:
        # The HTML is self-contained; forbid scripts even if something slipped through.
        headers["Content-Security-Policy"] = (
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
        )
    return headers


@router.get("/{handbook_id}/export", response_class=Response, responses=_EXPORT_RESPONSES)
def export_handbook(
    handbook_id: int,
    session: SessionDep,
    settings: SettingsDep,
    search: SearchEngineDep,
    limiter: ExportLimiterDep,
    caller: Viewer,
    format: ExportFormat = ExportFormat.pdf,
    edition: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Render the live selection, or a frozen edition, as PDF, DOCX, HTML or Markdown.

    A plain `def`: FastAPI runs it in the threadpool, so layout never blocks the event loop.
    """
    with limiter.slot(format):
        doc = assemble.build_document(
            session,
            handbook_id=handbook_id,
            settings=settings,
            edition=edition,
            search=search,
            principal=caller,
        )
        session.rollback()  # end the read transaction before seconds of layout
        body = export.render(doc, format, settings)
    headers = _file_headers(export.filename(doc, format), format)
    if export.link_warning(settings.public_base_url):
        # Header values are Latin-1: the Chinese wording is on the job and the web page.
        headers["X-Kbsvc-Warning"] = "links-point-to-loopback; set KBSVC_PUBLIC_BASE_URL"
    return Response(body, media_type=export.MEDIA_TYPES[format], headers=headers)
