"""Tickets: resolved helpdesk tickets as imported from an ITSM, CSV or XLSX export."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kbsvc.limits import MAX_TAGS, check_text
from kbsvc.timeutil import as_aware, utcnow

TEXT_FIELDS = ("title", "symptom", "description", "cause", "solution", "workaround")
META_FIELDS = ("system", "module", "department", "category", "channel", "priority", "handler")
TAG_SPLIT = re.compile(r"[,，、;；]+")
MAX_HANDLING_MINUTES = 60 * 24 * 31  # a month of work on one ticket is a typo beyond this


def split_tags(value: Any) -> list[str]:
    """Tags from a list or a string split on , ， 、 ; (deduplicated, order kept)."""
    items = value if isinstance(value, list | tuple) else TAG_SPLIT.split(str(value or ""))
    seen: dict[str, None] = {}
    for item in items:
        tag = str(item).strip()
        if tag:
            seen.setdefault(tag[:64], None)
    return list(seen)


class TicketBase(SQLModel):
    """Intake fields shared by the table and the API schemas."""

    source: str = Field(default="default", min_length=1, max_length=64)
    external_id: str = Field(default="", max_length=128)
    title: str = Field(default="", max_length=500)
    symptom: str = Field(default="", sa_type=Text)
    description: str = Field(default="", sa_type=Text)
    cause: str = Field(default="", sa_type=Text)
    solution: str = Field(default="", sa_type=Text)
    workaround: str = Field(default="", sa_type=Text)
    system: str = Field(default="", max_length=100, index=True)
    module: str = Field(default="", max_length=100)
    department: str = Field(default="", max_length=100, index=True)
    category: str = Field(default="", max_length=100)
    channel: str = Field(default="", max_length=50)
    priority: str = Field(default="", max_length=20)
    handler: str = Field(default="", max_length=100)
    opened_at: datetime | None = None
    resolved_at: datetime | None = None
    # Working time the helpdesk records (工时); reports call it effort only when it is given,
    # never resolved − opened, which counts nights and queues.
    handling_minutes: int | None = Field(default=None, ge=0, le=MAX_HANDLING_MINUTES)


class Ticket(TicketBase, table=True):
    """A ticket, unique per (source, external_id); the raw intake row is kept."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_ticket_source_ext"),)

    id: int | None = Field(default=None, primary_key=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def content_key(self) -> str:
        """Hash of the intake content, to tell a real update from a re-import."""
        return ticket_content_hash(self.model_dump(include=set(TicketIn.model_fields)))


class TicketIn(TicketBase):
    """A ticket as posted or imported; external_id may be empty (then derived)."""

    # Bounded like an entry's: a captured ticket's tags become its draft's.
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> list[str]:
        return split_tags(v)

    @field_validator(*TEXT_FIELDS, *META_FIELDS, "external_id", "source", mode="before")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        if v is None:
            return ""
        return str(v).strip() if isinstance(v, str | int | float) else v

    @field_validator(*TEXT_FIELDS[1:], mode="after")
    @classmethod
    def _text_limit(cls, v: str) -> str:
        return check_text(v) or ""

    @field_validator("opened_at", "resolved_at", mode="after")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        return as_aware(v)

    def resolved_external_id(self) -> str:
        """The given id, or a stable one derived from content so re-imports stay idempotent."""
        return resolved_external_id({k: getattr(self, k) for k in _ID_BASIS})


class TicketPublic(TicketBase):
    id: int
    tags: list[str]
    created_at: datetime
    updated_at: datetime


class TicketsPublic(SQLModel):
    data: list[TicketPublic]
    count: int


class TicketUpsertResult(SQLModel):
    """Outcome of a single or bulk upsert."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    data: list[TicketPublic] = []


_ID_BASIS = ("external_id", "title", "symptom", "description", "opened_at")


def resolved_external_id(fields: Mapping[str, Any]) -> str:
    """A ticket's given id, or one derived from its content (TicketIn.resolved_external_id)."""
    if fields.get("external_id"):
        return str(fields["external_id"])
    basis = "\x1f".join(
        [fields["title"], fields["symptom"], fields["description"], str(fields["opened_at"] or "")]
    )
    return "auto-" + hashlib.sha1(basis.encode("utf-8")).hexdigest()[:16]


def ticket_content_hash(fields: Mapping[str, Any]) -> str:
    """Stable hash over intake fields (raw row excluded)."""
    fields = {k: v for k, v in fields.items() if k != "raw"}
    if fields.get("handling_minutes") is None:
        # Added later: without a value the hash stays what it was, so a re-import of an
        # unchanged export still counts as unchanged.
        fields.pop("handling_minutes", None)
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
