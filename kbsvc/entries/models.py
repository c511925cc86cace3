"""Knowledge entries, their tags, their links to tickets and the change sequence."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from kbsvc.limits import MAX_DEPARTMENTS, MAX_TAGS, check_text
from kbsvc.tickets.models import split_tags
from kbsvc.timeutil import utcnow


class EntryStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    archived = "archived"


class LinkKind(StrEnum):
    source = "source"  # the ticket the entry was captured from
    cited = "cited"  # a later ticket that used the entry


class EntryBase(SQLModel):
    """Editable knowledge fields."""

    title: str = Field(default="", max_length=300)
    symptom: str = Field(default="", sa_type=Text)
    cause: str = Field(default="", sa_type=Text)
    solution: str = Field(default="", sa_type=Text)
    workaround: str = Field(default="", sa_type=Text)
    system: str = Field(default="", max_length=100, index=True)
    module: str = Field(default="", max_length=100)
    department: str = Field(default="", max_length=100, index=True)
    category: str = Field(default="", max_length=100)


class Entry(EntryBase, table=True):
    __tablename__ = "entries"

    id: int | None = Field(default=None, primary_key=True)
    status: EntryStatus = Field(
        default=EntryStatus.draft, sa_column=Column(String(20), nullable=False, index=True)
    )
    version: int = Field(default=1)
    change_seq: int = Field(default=0, index=True)
    created_by: str = Field(default="", max_length=100)
    updated_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Set when this entry was merged into another; readers follow it (the UI redirects).
    merged_into_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer,
            ForeignKey("entries.id", ondelete="SET NULL", name="fk_entries_merged_into_id"),
            nullable=True,
        ),
    )
    review_due_at: datetime | None = Field(default=None, index=True)
    review_comment: str = Field(default="", sa_type=Text)  # the last reviewer's rejection note
    # An admin purge blanks the content but keeps the row, so citing tickets still resolve.
    purged_at: datetime | None = None
    purge_reason: str = Field(default="", sa_type=Text)


class RevisionStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    discarded = "discarded"


OPEN_REVISION = (RevisionStatus.draft.value, RevisionStatus.in_review.value)


class EntryRevision(SQLModel, table=True):
    """A proposed change to a published entry; the live entry is untouched until it is published."""

    __tablename__ = "entry_revisions"
    __table_args__ = (
        # At most one open revision per entry, so two editors cannot fork the live text.
        Index(
            "uq_entry_revisions_open",
            "entry_id",
            unique=True,
            sqlite_where=text("status IN ('draft', 'in_review')"),
            postgresql_where=text("status IN ('draft', 'in_review')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    base_version: int  # the live version the revision was started from
    status: RevisionStatus = Field(
        default=RevisionStatus.draft, sa_column=Column(String(20), nullable=False, index=True)
    )
    # CONTENT_FIELDS plus tags and restricted_departments, as they will be when published.
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=500)
    review_comment: str = Field(default="", sa_type=Text)
    created_by: str = Field(default="", max_length=100)
    updated_by: str = Field(default="", max_length=100)
    reviewed_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    published_version: int | None = None


class EntryVersion(SQLModel, table=True):
    """Full snapshot of an entry after each change; the newest row equals the entry."""

    __tablename__ = "entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_entry_version"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    version: int
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    author: str = Field(default="", max_length=100)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class Tag(SQLModel, table=True):
    __tablename__ = "tags"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)


class EntryTag(SQLModel, table=True):
    __tablename__ = "entry_tags"

    entry_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    )


class EntryLink(SQLModel, table=True):
    """Entry ↔ ticket, keyed by (source, external_id) so a citing ticket need not exist yet."""

    __tablename__ = "entry_links"
    __table_args__ = (
        UniqueConstraint("entry_id", "source", "external_id", "kind", name="uq_entry_link"),
    )

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    )
    source: str = Field(max_length=64)
    external_id: str = Field(max_length=128, index=True)
    kind: LinkKind = Field(sa_column=Column(String(20), nullable=False))
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class SequenceCounter(SQLModel, table=True):
    """One row per named counter; bumped with UPDATE … RETURNING so commits stay in seq order."""

    __tablename__ = "sequence_counters"

    name: str = Field(primary_key=True, max_length=50)
    value: int = Field(default=0)


class EntryChange(SQLModel, table=True):
    """Outbox of entry changes the indexer follows in seq order (deletes included)."""

    __tablename__ = "entry_changes"

    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    entry_id: int = Field(index=True)
    op: str = Field(max_length=20)  # upsert | delete
    at: datetime = Field(default_factory=utcnow)


ENTRY_TEXT_FIELDS = ("symptom", "cause", "solution", "workaround")


class EntryCreate(EntryBase):
    """Fields a client may set on create (no status/version/ids: no mass assignment)."""

    title: str = Field(min_length=1, max_length=300)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    # Empty: everyone may see it (once published); else only these departments (and admins).
    restricted_departments: list[str] = Field(default_factory=list, max_length=MAX_DEPARTMENTS)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: object) -> list[str]:
        return split_tags(v)

    @field_validator(*ENTRY_TEXT_FIELDS)
    @classmethod
    def _text_limit(cls, v: str) -> str:
        return check_text(v) or ""


class EntryUpdate(SQLModel):
    """Partial update; every field optional."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    symptom: str | None = None
    cause: str | None = None
    solution: str | None = None
    workaround: str | None = None
    system: str | None = Field(default=None, max_length=100)
    module: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    restricted_departments: list[str] | None = Field(default=None, max_length=MAX_DEPARTMENTS)
    # The version this edit was based on (or an If-Match header); stale → 409, nothing written.
    base_version: int | None = Field(default=None, ge=1)
    note: str | None = Field(default=None, max_length=500)
    # A reviewer editing a published entry may publish at once (recorded as a version);
    # everyone else's edit of a published entry becomes a revision under review.
    publish: bool = False

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: object) -> list[str] | None:
        return None if v is None else split_tags(v)

    @field_validator(*ENTRY_TEXT_FIELDS)
    @classmethod
    def _text_limit(cls, v: str | None) -> str | None:
        return check_text(v)


class TicketRef(SQLModel):
    source: str
    external_id: str
    kind: LinkKind


class RevisionRef(SQLModel):
    """The pending change to a published entry: the version it would become, and its state."""

    version: int
    status: RevisionStatus


class EntryPublic(EntryBase):
    id: int
    status: EntryStatus
    version: int
    tags: list[str]
    restricted_departments: list[str] = []
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
    merged_into_id: int | None = None
    review_due_at: datetime | None = None
    # Shown to editors and reviewers only; viewers always read the live fields above.
    pending_revision: RevisionRef | None = None


class DuplicateCandidate(SQLModel):
    """An existing entry that probably describes the same fault."""

    id: int
    title: str
    status: EntryStatus
    system: str
    module: str
    score: float
    reasons: list[str]


class EntryCreated(EntryPublic):
    """Create response: the entry plus likely duplicates to reuse instead (KCS)."""

    duplicates: list[DuplicateCandidate] = []


class EntryDetail(EntryPublic):
    links: list[TicketRef] = []
    review_comment: str = ""
    citation_count: int = 0
    helpful_count: int = 0
    not_helpful_count: int = 0
    open_flag_count: int = 0
    purged_at: datetime | None = None
    purge_reason: str = ""


class EntriesPublic(SQLModel):
    data: list[EntryPublic]
    count: int
