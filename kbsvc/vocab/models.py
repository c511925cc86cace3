"""Controlled vocabularies: the known systems, modules, departments and categories."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import field_validator
from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from kbsvc.tickets.models import split_tags
from kbsvc.timeutil import utcnow


class VocabKind(StrEnum):
    system = "system"
    module = "module"
    department = "department"
    category = "category"
    # value: what staff mean ("医保"); aliases: the shorthand they type ("yb"). Adds to and
    # overrides the shipped table (indexer/data/abbreviations.txt) for query expansion.
    abbreviation = "abbreviation"


class VocabTerm(SQLModel, table=True):
    """One known value with the spellings that mean it (aliases)."""

    __tablename__ = "vocabulary_terms"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_vocab_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: VocabKind = Field(sa_column=Column(String(20), nullable=False, index=True))
    value: str = Field(max_length=100)
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    parent: str = Field(default="", max_length=100)  # a module's system
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class VocabTermIn(SQLModel):
    kind: VocabKind
    value: str = Field(min_length=1, max_length=100)
    aliases: list[str] = Field(default_factory=list)
    parent: str = Field(default="", max_length=100)

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: object) -> list[str]:
        return split_tags(v)


class VocabTermUpdate(SQLModel):
    value: str | None = Field(default=None, min_length=1, max_length=100)
    aliases: list[str] | None = None
    parent: str | None = Field(default=None, max_length=100)

    @field_validator("aliases", mode="before")
    @classmethod
    def _aliases(cls, v: object) -> list[str] | None:
        return None if v is None else split_tags(v)


class VocabTermPublic(SQLModel):
    id: int
    kind: VocabKind
    value: str
    aliases: list[str]
    parent: str


class VocabTermsPublic(SQLModel):
    data: list[VocabTermPublic]
    count: int


class Normalized(SQLModel):
    """Outcome of mapping an imported value onto the vocabulary."""

    kind: VocabKind
    original: str
    value: str
    match: str  # exact | alias | fuzzy | none | empty
    flagged: bool
