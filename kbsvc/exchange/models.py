"""Exchange file records, the provenance table that makes imports idempotent, and reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from kbsvc.timeutil import utcnow

FORMAT = "kbsvc-exchange/1"
MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
VOCABULARY = "vocabulary.jsonl"
FILES_DIR = "files/"  # attachments: files/<sha256>/<name>, named in an entry's `files`


class EntryProvenance(SQLModel, table=True):
    """Where an imported entry came from; (site_id, source_entry_id) finds it again."""

    __tablename__ = "entry_provenance"
    __table_args__ = (UniqueConstraint("site_id", "source_entry_id", name="uq_provenance_source"),)

    id: int | None = SQLField(default=None, primary_key=True)
    entry_id: int = SQLField(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), unique=True, nullable=False
        )
    )
    site_id: str = SQLField(max_length=64)
    site_name: str = SQLField(default="", max_length=200)
    source_entry_id: int
    source_version: int
    exported_at: datetime
    imported_at: datetime = SQLField(default_factory=utcnow)


class Provenance(BaseModel):
    site_id: str = Field(min_length=1, max_length=64)
    site_name: str = Field(default="", max_length=200)
    entry_id: int = Field(ge=1)
    version: int = Field(ge=1)
    published_at: datetime | None = None


class ExchangeEntry(BaseModel):
    """One line of entries.jsonl: an entry's published content plus where it came from."""

    provenance: Provenance
    title: str = Field(min_length=1, max_length=300)
    symptom: str = ""
    cause: str = ""
    solution: str = ""
    workaround: str = ""
    system: str = Field(default="", max_length=100)
    module: str = Field(default="", max_length=100)
    department: str = Field(default="", max_length=100)
    category: str = Field(default="", max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=50)
    files: list[str] = Field(default_factory=list, max_length=20)


class ExchangeVocab(BaseModel):
    """One line of vocabulary.jsonl."""

    kind: str = Field(min_length=1, max_length=20)
    value: str = Field(min_length=1, max_length=100)
    aliases: list[str] = Field(default_factory=list, max_length=100)
    parent: str = Field(default="", max_length=100)


class ExchangeManifest(BaseModel):
    format: str = FORMAT
    site_id: str
    site_name: str
    exported_at: datetime
    kbsvc_version: str
    filter: dict[str, str] = {}
    entries: int
    vocabulary: int
    # sha256 per member file, so a damaged transfer is refused instead of half-imported.
    sha256: dict[str, str] = {}


class ImportedEntry(BaseModel):
    source_entry_id: int
    title: str
    outcome: str  # created | updated | unchanged | kept (already reviewed here)
    entry_id: int | None = None
    duplicates: list[int] = []


class ImportReport(BaseModel):
    site_name: str
    exported_at: datetime
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    possible_duplicates: int = 0
    vocabulary_added: int = 0
    entries: list[ImportedEntry] = []


class ExportReport(BaseModel):
    path: str = ""
    entries: int
    vocabulary: int
    bytes: int
