"""Handbook definitions, their frozen editions and the API schemas around them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, field_validator
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from kbsvc.entries.models import EntryStatus
from kbsvc.tickets.models import split_tags
from kbsvc.timeutil import utcnow


class Grouping(StrEnum):
    """How entries become chapters (level 1) and sections (level 2)."""

    system_module = "system_module"  # 第1章 HIS → 1.1 门诊医生站
    category = "category"  # 第1章 HIS → 1.1 登录与账号
    cause_category = "cause_category"  # 第1章 登录与账号 → 1.1 HIS


class ExportFormat(StrEnum):
    pdf = "pdf"
    docx = "docx"
    html = "html"
    md = "md"


class Selection(BaseModel):
    """Which entries a handbook holds: an optional topic query plus facet filters (AND)."""

    query: str = Field(default="", max_length=500)
    systems: list[str] = []
    modules: list[str] = []
    tags: list[str] = []
    categories: list[str] = []
    departments: list[str] = []
    status: EntryStatus = EntryStatus.published

    @field_validator("systems", "modules", "tags", "categories", "departments", mode="before")
    @classmethod
    def _names(cls, v: object) -> list[str]:
        return split_tags(v)


MAX_HAND_PICKED = 2000
NOTE_MAX = 20_000


class HandbookBase(SQLModel):
    title: str = Field(min_length=1, max_length=200)
    subtitle: str = Field(default="", max_length=300)
    # Markdown (rendered by the safe markdown-it config and sanitized: render/html.py).
    intro: str = Field(default="", sa_type=Text, max_length=NOTE_MAX)
    grouping: Grouping = Field(
        default=Grouping.system_module, sa_column=Column(String(30), nullable=False)
    )
    max_entries: int = Field(default=200, ge=1, le=5000)


class Shaping(BaseModel):
    """What a trainer does by hand on top of the selection: pick, drop, order, annotate."""

    pinned: list[int] = Field(default=[], max_length=MAX_HAND_PICKED)  # always included
    excluded: list[int] = Field(default=[], max_length=MAX_HAND_PICKED)  # never included
    # Entry ids in reading order; entries not listed follow in the default order.
    order: list[int] = Field(default=[], max_length=5000)
    # Chapter title → Markdown note printed under the chapter heading.
    chapter_notes: dict[str, str] = Field(default={}, max_length=200)

    @field_validator("pinned", "excluded", "order")
    @classmethod
    def _unique(cls, v: list[int]) -> list[int]:
        return list(dict.fromkeys(i for i in v if i > 0))

    @field_validator("chapter_notes")
    @classmethod
    def _notes(cls, v: dict[str, str]) -> dict[str, str]:
        if any(len(k) > 200 or len(text) > NOTE_MAX for k, text in v.items()):
            raise ValueError(f"chapter titles ≤ 200 and notes ≤ {NOTE_MAX} characters")
        return {k.strip(): text for k, text in v.items() if k.strip() and text.strip()}


class Handbook(HandbookBase, table=True):
    """A saved, re-generable handbook definition."""

    __tablename__ = "handbooks"

    id: int | None = Field(default=None, primary_key=True)
    selection: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # A Shaping as JSON (pinned, excluded, order, chapter_notes).
    shaping: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(default="", max_length=100)
    updated_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class HandbookEdition(SQLModel, table=True):
    """A frozen edition: the definition and every entry as it read when published."""

    __tablename__ = "handbook_editions"
    __table_args__ = (UniqueConstraint("handbook_id", "number", name="uq_handbook_edition"),)

    id: int | None = Field(default=None, primary_key=True)
    handbook_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("handbooks.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    number: int
    published_at: datetime = Field(default_factory=utcnow)
    published_by: str = Field(default="", max_length=100)
    # title/subtitle/intro/grouping at publication time, so later edits leave it alone.
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # [{id, version, title, symptom, …, tags, reuse, updated_at}] in handbook order.
    snapshot: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # {added: [...], updated: [...], removed: [...]} against the previous edition.
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HandbookCreate(HandbookBase):
    selection: Selection = Selection()
    shaping: Shaping = Shaping()


class HandbookUpdate(SQLModel):
    """Partial update; every field optional."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    subtitle: str | None = Field(default=None, max_length=300)
    intro: str | None = Field(default=None, max_length=20_000)
    grouping: Grouping | None = None
    max_entries: int | None = Field(default=None, ge=1, le=5000)
    selection: Selection | None = None
    shaping: Shaping | None = None


class HandbookPublic(HandbookBase):
    id: int
    selection: Selection
    shaping: Shaping
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    editions: int = 0


class HandbooksPublic(SQLModel):
    data: list[HandbookPublic]
    count: int


class EditionChange(BaseModel):
    id: int
    title: str
    version: int | None = None
    previous_version: int | None = None


class EditionChanges(BaseModel):
    added: list[EditionChange] = []
    updated: list[EditionChange] = []
    removed: list[EditionChange] = []


class EditionPublic(BaseModel):
    handbook_id: int
    number: int
    published_at: datetime
    published_by: str
    entry_count: int
    changes: EditionChanges


class EditionsPublic(BaseModel):
    data: list[EditionPublic]
    count: int


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


class ExportJob(SQLModel, table=True):
    """A background export: durable, so any host on the database can run it or serve its file."""

    __tablename__ = "handbook_export_jobs"

    id: int | None = Field(default=None, primary_key=True)
    handbook_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("handbooks.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    edition: int | None = None
    format: str = Field(max_length=10)
    status: str = Field(default=JobStatus.queued.value, max_length=10, index=True)
    phase: str = Field(default="排队中", max_length=100)
    done: int = 0
    total: int = 0
    # Who asked, as the policy needs it (the export shows only what they may see).
    requested_by: str = Field(default="", max_length=100)
    principal: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    warning: str = Field(default="", max_length=500)
    error: str = Field(default="", max_length=1000)
    filename: str = Field(default="", max_length=300)
    size: int = 0
    result: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    attempts: int = 0
    claimed_by: str = Field(default="", max_length=200)
    lease_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ExportRequest(BaseModel):
    format: ExportFormat = ExportFormat.pdf
    edition: int | None = Field(default=None, ge=1)


class ExportJobPublic(BaseModel):
    id: int
    handbook_id: int
    edition: int | None
    format: ExportFormat
    status: JobStatus
    phase: str
    done: int
    total: int
    warning: str
    error: str
    filename: str
    size: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    download_url: str | None = None
