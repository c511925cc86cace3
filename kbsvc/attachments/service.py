"""Attachment data access: add, list, read bytes, remove; visibility follows the entry's."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.attachments import review
from kbsvc.attachments.models import (
    Attachment,
    AttachmentAdded,
    AttachmentBlob,
    AttachmentPublic,
    AttachmentState,
    OcrStatus,
)
from kbsvc.attachments.sniff import PDF, Clean
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.config import AttachmentSettings
from kbsvc.entries import changes, revisions
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryRevision, EntryStatus
from kbsvc.exceptions import Conflict, NotFound
from kbsvc.timeutil import utcnow

S = AttachmentState
PII_WARNING = (
    "保存前请检查截图和文件中是否有患者姓名、身份证号、病历号、电话等患者信息，"
    "如有请先打码或裁掉再上传。"
)


@dataclass
class ExportImage:
    """An image ready for a handbook exporter (PDF/DOCX): the re-encoded bytes and its text."""

    attachment_id: int
    entry_id: int
    filename: str
    media_type: str
    data: bytes
    width: int
    height: int
    ocr_text: str


def to_public(a: Attachment) -> AttachmentPublic:
    assert a.id is not None
    base = f"/api/v1/entries/{a.entry_id}/attachments/{a.id}"
    thumb = f"{base}/thumb" if a.media_type != PDF else None
    return AttachmentPublic.model_validate(a, update={"url": base, "thumb_url": thumb})


def _writable(session: Session, entry_id: int, principal: Principal) -> Entry:
    entry = entries.get(session, entry_id=entry_id, principal=principal)
    if entry.merged_into_id is not None or entry.purged_at is not None:
        raise Conflict(f"条目 #{entry_id} 已合并或已清除，不能再修改附件", entry_id=entry_id)
    if entry.status == EntryStatus.archived:
        raise Conflict(f"条目 #{entry_id} 已归档：请先重新打开为草稿", entry_id=entry_id)
    return entry


def _revision(session: Session, entry: Entry, principal: Principal) -> EntryRevision:
    """The entry's open revision, started from the live content when there is none."""
    assert entry.id is not None
    rev = revisions.open_revision(session, entry.id)
    if rev is None:
        rev = EntryRevision(
            entry_id=entry.id,
            base_version=entry.version,
            content=revisions.live_content(session, entry),
            created_by=principal.label,
        )
    rev.updated_by, rev.updated_at = principal.label, utcnow()
    return rev


def add(
    session: Session,
    *,
    entry_id: int,
    upload: Clean,
    principal: Principal,
    settings: AttachmentSettings,
) -> AttachmentAdded:
    """Attach checked bytes; on a published entry the attachment joins its revision for review."""
    entry = _writable(session, entry_id, principal)
    present = review.current(session, entry_id)
    if len(present) >= settings.max_per_entry:
        raise Conflict(
            f"每个条目最多 {settings.max_per_entry} 个附件", max_per_entry=settings.max_per_entry
        )
    digest = hashlib.sha256(upload.data).hexdigest()
    same = next((a for a in present if a.sha256 == digest), None)
    if same is not None:
        raise Conflict(
            f"这个文件已经附在本条目上（附件 #{same.id}）", attachment_id=same.id, entry_id=entry_id
        )
    published = entry.status == EntryStatus.published
    ocr = settings.ocr.enabled and upload.media_type != PDF
    row = Attachment(
        entry_id=entry_id,
        state=S.pending if published else S.live,
        filename=upload.filename,
        media_type=upload.media_type,
        size=len(upload.data),
        sha256=digest,
        width=upload.width,
        height=upload.height,
        pages=upload.pages,
        ocr_status=OcrStatus.pending if ocr else OcrStatus.none,
        ocr_next_at=utcnow() if ocr else None,
        created_by=principal.label,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(AttachmentBlob(attachment_id=row.id, data=upload.data, thumb=upload.thumb))
    if published:
        rev = _revision(session, entry, principal)
        review.set_proposed(rev, [*review.proposed_ids(session, rev, entry_id), row.id])
        session.add(rev)
    else:
        changes.touch(session, entry_id)
    session.flush()
    return AttachmentAdded(
        **to_public(row).model_dump(), pending_review=published, warning=PII_WARNING
    )


def remove(session: Session, *, entry_id: int, attachment_id: int, principal: Principal) -> bool:
    """Take an attachment off; True when that waits for review (published entry)."""
    entry = _writable(session, entry_id, principal)
    row = session.get(Attachment, attachment_id)
    if row is None or row.entry_id != entry_id or row.state not in (S.live, S.pending):
        raise NotFound(f"条目 #{entry_id} 没有附件 #{attachment_id}", attachment_id=attachment_id)
    if entry.status == EntryStatus.published:
        rev = _revision(session, entry, principal)
        review.set_proposed(
            rev, [i for i in review.proposed_ids(session, rev, entry_id) if i != attachment_id]
        )
        session.add(rev)
        session.flush()
        return True
    row.state = S.removed
    session.add(row)
    changes.touch(session, entry_id)
    session.flush()
    return False


def listing(session: Session, *, entry_id: int, principal: Principal) -> list[Attachment]:
    """What `principal` sees: the live attachments; editors also those waiting in a revision."""
    entries.get(session, entry_id=entry_id, principal=principal)
    rows = review.current(session, entry_id)
    if not policy.sees_unpublished(principal):
        return [a for a in rows if a.state == S.live]
    rev = revisions.open_revision(session, entry_id)
    shown = set(review.proposed_ids(session, rev, entry_id)) | set(
        review.live_ids(session, entry_id)
    )
    return [a for a in rows if a.id in shown]


def content(
    session: Session, *, entry_id: int, attachment_id: int, principal: Principal, thumb: bool
) -> tuple[Attachment, bytes]:
    """An attachment's bytes (or thumbnail) for a caller who may see it, else NotFound."""
    entries.get(session, entry_id=entry_id, principal=principal)
    row = session.get(Attachment, attachment_id)
    visible = row is not None and row.entry_id == entry_id and row.state in (S.live, S.pending)
    if (
        row is None
        or not visible
        or (row.state == S.pending and not policy.sees_unpublished(principal))
    ):
        raise NotFound(f"条目 #{entry_id} 没有附件 #{attachment_id}", attachment_id=attachment_id)
    blob = session.get(AttachmentBlob, attachment_id)
    data = (blob.thumb if thumb else blob.data) if blob is not None else None
    if data is None:
        raise NotFound(f"附件 #{attachment_id} 没有缩略图", attachment_id=attachment_id)
    return row, data


def live_of(session: Session, entry_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """Live attachments per entry id (callers have already applied the visibility rule)."""
    out: dict[int, list[Attachment]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    stmt = (
        select(Attachment)
        .where(col(Attachment.entry_id).in_(list(entry_ids)), col(Attachment.state) == S.live)
        .order_by(col(Attachment.entry_id), col(Attachment.id))
    )
    for a in session.execute(stmt).scalars():
        out[a.entry_id].append(a)
    return out


def blob_of(session: Session, attachment_id: int) -> bytes:
    """The stored bytes of one attachment (callers have applied the visibility rule)."""
    blob = session.get(AttachmentBlob, attachment_id)
    if blob is None:
        raise NotFound(f"附件 #{attachment_id} 不存在", attachment_id=attachment_id)
    return blob.data


def ocr_texts(session: Session, entry_ids: Sequence[int]) -> dict[int, list[str]]:
    """Masked recognised text of live attachments per entry (what the index adds)."""
    out: dict[int, list[str]] = {}
    stmt = (
        select(col(Attachment.entry_id), col(Attachment.ocr_text))
        .where(
            col(Attachment.entry_id).in_(list(entry_ids)),
            col(Attachment.state) == S.live,
            col(Attachment.ocr_text) != "",
        )
        .order_by(col(Attachment.id))
    )
    for entry_id, text in session.execute(stmt):
        out.setdefault(entry_id, []).append(text)
    return out


def counts(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """Number of live attachments per entry id."""
    stmt = (
        select(col(Attachment.entry_id), func.count())
        .where(col(Attachment.entry_id).in_(list(entry_ids)), col(Attachment.state) == S.live)
        .group_by(col(Attachment.entry_id))
    )
    return {int(e): int(n) for e, n in session.execute(stmt)}


def images_for_export(
    session: Session, entry_ids: Sequence[int], principal: Principal
) -> dict[int, list[ExportImage]]:
    """Live images of the entries `principal` may see, for handbook PDF/DOCX exporters."""
    visible = policy.filter_visible(session, principal, list(entry_ids))
    rows = [a for lst in live_of(session, visible).values() for a in lst if a.media_type != PDF]
    blobs = {
        b.attachment_id: b.data
        for b in session.execute(
            select(AttachmentBlob).where(
                col(AttachmentBlob.attachment_id).in_([a.id for a in rows])
            )
        ).scalars()
    }
    out: dict[int, list[ExportImage]] = {i: [] for i in visible}
    for a in rows:
        assert a.id is not None
        out[a.entry_id].append(
            ExportImage(
                attachment_id=a.id,
                entry_id=a.entry_id,
                filename=a.filename,
                media_type=a.media_type,
                data=blobs[a.id],
                width=a.width or 0,
                height=a.height or 0,
                ocr_text=a.ocr_text,
            )
        )
    return out
