"""Entry attachments: upload (multipart), list, bytes and thumbnails, remove."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Response, UploadFile

from api.deps import Editor, SessionDep, SettingsDep, WidgetOrViewer
from api.errors import ERROR_RESPONSES
from api.middleware.limits import LARGE_BODY_FLAG
from api.uow import UnitOfWorkRoute
from kbsvc.attachments import service, sniff
from kbsvc.attachments.models import AttachmentAdded, AttachmentsPublic
from kbsvc.exceptions import TooLarge

router = APIRouter(
    prefix="/api/v1/entries/{entry_id}/attachments",
    tags=["attachments"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)


@router.post(
    "",
    response_model=AttachmentAdded,
    status_code=201,
    openapi_extra={LARGE_BODY_FLAG: True},
)
def upload(
    entry_id: int,
    session: SessionDep,
    settings: SettingsDep,
    caller: Editor,
    file: Annotated[UploadFile, File(description="PNG, JPEG or PDF (type read from the bytes)")],
) -> AttachmentAdded:
    """Attach an image or PDF. The type is sniffed from the content; images are re-encoded
    without metadata. On a published entry the attachment waits in the pending revision."""
    cfg = settings.attachments
    limit = max(cfg.max_image_bytes, cfg.max_pdf_bytes)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"文件不能超过 {limit // (1024 * 1024)} MB", max_bytes=limit)
    clean = sniff.clean_upload(data, file.filename or "", cfg)
    return service.add(session, entry_id=entry_id, upload=clean, principal=caller, settings=cfg)


@router.get("", response_model=AttachmentsPublic)
def list_attachments(
    entry_id: int, session: SessionDep, caller: WidgetOrViewer
) -> AttachmentsPublic:
    """Attachments of an entry the caller may see; editors also see those waiting for review."""
    rows = service.listing(session, entry_id=entry_id, principal=caller)
    return AttachmentsPublic(data=[service.to_public(a) for a in rows], count=len(rows))


def _bytes(media_type: str, filename: str, data: bytes, etag: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=86400",  # an attachment's bytes never change
            "ETag": f'"{etag}"',
        },
    )


@router.get(
    "/{attachment_id}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "application/pdf": {}}}},
)
def get_attachment(
    entry_id: int, attachment_id: int, session: SessionDep, caller: WidgetOrViewer
) -> Response:
    """The stored bytes (404 when the caller may not see the entry)."""
    row, data = service.content(
        session, entry_id=entry_id, attachment_id=attachment_id, principal=caller, thumb=False
    )
    return _bytes(row.media_type, row.filename, data, row.sha256)


@router.get(
    "/{attachment_id}/thumb",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}},
)
def get_thumbnail(
    entry_id: int, attachment_id: int, session: SessionDep, caller: WidgetOrViewer
) -> Response:
    """A small preview of an image attachment (at most attachments.thumb_px on a side)."""
    row, data = service.content(
        session, entry_id=entry_id, attachment_id=attachment_id, principal=caller, thumb=True
    )
    return _bytes(row.media_type, row.filename, data, row.sha256 + "-thumb")


@router.delete("/{attachment_id}", response_model=dict[str, bool])
def remove_attachment(
    entry_id: int, attachment_id: int, session: SessionDep, caller: Editor
) -> dict[str, bool]:
    """Take an attachment off; on a published entry that waits in the revision for review."""
    pending = service.remove(
        session, entry_id=entry_id, attachment_id=attachment_id, principal=caller
    )
    return {"pending_review": pending}
