"""Attachment rows (metadata, review state, OCR job columns) and their bytes, kept apart."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from kbsvc.timeutil import utcnow


class AttachmentState(StrEnum):
    live = "live"  # part of the entry readers see
    pending = "pending"  # added to a published entry: waits in its revision for review
    removed = "removed"  # taken off by a published revision (kept: knowledge is not destroyed)
    discarded = "discarded"  # its revision was discarded before it was ever live


class OcrStatus(StrEnum):
    none = "none"  # a PDF: nothing to recognise
    pending = "pending"
    done = "done"
    failed = "failed"  # gave up after ocr.max_attempts


class Attachment(SQLModel, table=True):
    """An image or PDF on an entry; its OCR columns make it its own durable background job."""

    __tablename__ = "entry_attachments"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    state: AttachmentState = Field(
        default=AttachmentState.live, sa_column=Column(String(12), nullable=False, index=True)
    )
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=40)  # sniffed from the bytes: image/png, image/jpeg, …
    size: int
    sha256: str = Field(max_length=64)
    width: int | None = None
    height: int | None = None
    pages: int | None = None  # PDFs
    ocr_status: OcrStatus = Field(
        default=OcrStatus.none, sa_column=Column(String(10), nullable=False, index=True)
    )
    # Recognised text after PII masking (the raw recognition is never stored).
    ocr_text: str = Field(default="", sa_type=Text)
    ocr_pii: bool = False  # masking changed the recognised text: the picture itself shows PII
    ocr_attempts: int = 0
    ocr_next_at: datetime | None = Field(default=None, index=True)
    ocr_lease_until: datetime | None = None
    ocr_error: str = Field(default="", max_length=1000)
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class AttachmentBlob(SQLModel, table=True):
    """The stored bytes (re-encoded image or checked PDF) and a small thumbnail."""

    __tablename__ = "attachment_blobs"

    attachment_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entry_attachments.id", ondelete="CASCADE"), primary_key=True
        )
    )
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    thumb: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class AttachmentPublic(SQLModel):
    """An attachment as the API shows it (bytes at `url`, thumbnail at `thumb_url`)."""

    id: int
    entry_id: int
    state: AttachmentState
    filename: str
    media_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    ocr_status: OcrStatus
    ocr_text: str = ""
    ocr_pii: bool = False
    created_by: str
    created_at: datetime
    url: str
    thumb_url: str | None = None


class AttachmentsPublic(SQLModel):
    data: list[AttachmentPublic]
    count: int


class AttachmentAdded(AttachmentPublic):
    """Upload answer: the attachment, whether it waits for review, and the patient-data reminder."""

    pending_review: bool = False
    warning: str = ""
