"""API schemas of the entry lifecycle: versions, diffs, transitions, merge, citations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from kbsvc.entries.models import EntryPublic


class VersionPublic(SQLModel):
    """One stored version (without its snapshot)."""

    version: int
    author: str
    note: str
    created_at: datetime


class VersionDetail(VersionPublic):
    snapshot: dict[str, Any]


class VersionsPublic(SQLModel):
    data: list[VersionPublic]
    count: int


class FieldChange(SQLModel):
    field: str
    before: Any = None
    after: Any = None


class VersionDiff(SQLModel):
    """Fields that differ between two versions, in a fixed field order."""

    entry_id: int
    from_version: int
    to_version: int
    changes: list[FieldChange]


class TransitionIn(SQLModel):
    """Optional note on submit/publish/archive/restore-draft."""

    note: str = Field(default="", max_length=500)


class RejectIn(SQLModel):
    """A rejection must tell the editor what to fix."""

    comment: str = Field(min_length=1, max_length=2000)


class RestoreIn(SQLModel):
    base_version: int | None = Field(default=None, ge=1)
    note: str = Field(default="", max_length=500)


class MergeIn(SQLModel):
    """Merge entry `from_id` into the entry in the path."""

    from_id: int = Field(ge=1)
    append_solution: bool = False


class MergeResult(SQLModel):
    survivor: EntryPublic
    merged: EntryPublic
    moved: dict[str, int]


class CitationIn(SQLModel):
    source: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=128)


class CitationPublic(SQLModel):
    """A ticket that used an entry (the ticket may not be imported yet)."""

    entry_id: int
    source: str
    external_id: str
    ticket_id: int | None = None
    ticket_title: str = ""
    created_by: str
    via_widget: bool = False  # recorded with a widget key (bounded: kbsvc/entries/citations.py)
    created_at: datetime


class CitationsPublic(SQLModel):
    data: list[CitationPublic]
    count: int


class CitedEntry(SQLModel):
    """An entry cited by a ticket, with the fix (the widget pins it and can insert it)."""

    entry_id: int
    title: str
    status: str
    merged_into_id: int | None = None
    cited_at: datetime
    solution: str = ""
    workaround: str = ""
    system: str = ""
    department: str = ""


class CitedEntriesPublic(SQLModel):
    data: list[CitedEntry]
    count: int


class RevisionPublic(SQLModel):
    """A pending (or past) revision of a published entry and how it differs from the live one."""

    id: int
    entry_id: int
    version: int
    base_version: int
    status: str
    content: dict[str, Any]
    note: str
    review_comment: str
    created_by: str
    updated_by: str
    reviewed_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None = None
    published_version: int | None = None
    changes: list[FieldChange] = []


class PurgeIn(SQLModel):
    """Why an admin destroys an entry's content (kept in the audit log and the tombstone)."""

    reason: str = Field(min_length=4, max_length=500)
