"""Webhook tables (hooks, processed event ids, dead letters) and their API schemas."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kbsvc.hooks import HookCapture
from kbsvc.timeutil import utcnow

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class EventKind(StrEnum):
    created = "created"
    updated = "updated"
    resolved = "resolved"


class DeadLetterStatus(StrEnum):
    open = "open"
    replayed = "replayed"


class Hook(SQLModel, table=True):
    """One helpdesk allowed to push tickets; the secret signs its requests (HMAC-SHA256)."""

    __tablename__ = "hooks"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True, index=True)
    # Kept in clear: verifying an HMAC needs the shared secret itself (unlike API keys).
    secret: str = Field(max_length=128)
    source: str = Field(max_length=64)
    capture: HookCapture = Field(
        default=HookCapture.none, sa_column=Column(String(10), nullable=False)
    )
    mapping_toml: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class HookEvent(SQLModel, table=True):
    """An event id already applied: the same id again changes nothing."""

    __tablename__ = "hook_events"
    __table_args__ = (UniqueConstraint("hook_id", "event_id", name="uq_hook_event"),)

    id: int | None = Field(default=None, primary_key=True)
    hook_id: int = Field(
        sa_column=Column(Integer, ForeignKey("hooks.id", ondelete="CASCADE"), nullable=False)
    )
    event_id: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    ticket_id: int | None = None
    entry_id: int | None = None
    received_at: datetime = Field(default_factory=utcnow)


class HookDeadLetter(SQLModel, table=True):
    """An authentic event that could not be applied, kept with its reason until replayed."""

    __tablename__ = "hook_dead_letters"

    id: int | None = Field(default=None, primary_key=True)
    hook_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("hooks.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    event_id: str = Field(default="", max_length=200, index=True)
    payload: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str = Field(default="", max_length=1000)
    status: DeadLetterStatus = Field(
        default=DeadLetterStatus.open, sa_column=Column(String(10), nullable=False, index=True)
    )
    attempts: int = 1
    received_at: datetime = Field(default_factory=utcnow)
    replayed_at: datetime | None = None


class HookIn(SQLModel):
    name: str = Field(schema_extra={"pattern": NAME_PATTERN})
    capture: HookCapture = HookCapture.none
    source: str = Field(default="", max_length=64)
    mapping_toml: str = Field(default="", max_length=20_000)


class MappingIn(SQLModel):
    mapping_toml: str = Field(max_length=20_000)


class HookPublic(SQLModel):
    id: int
    name: str
    source: str
    capture: HookCapture
    mapping_toml: str
    created_at: datetime
    updated_at: datetime
    open_dead_letters: int = 0


class HookCreated(HookPublic):
    """A new hook; the secret is shown only here."""

    secret: str


class HooksPublic(SQLModel):
    data: list[HookPublic]
    count: int


class DeadLetterPublic(SQLModel):
    id: int
    hook: str
    event_id: str
    payload: Any
    reason: str
    status: DeadLetterStatus
    attempts: int
    received_at: datetime
    replayed_at: datetime | None


class DeadLettersPublic(SQLModel):
    data: list[DeadLetterPublic]
    count: int


class EventOutcome(SQLModel):
    """What one event did: applied, duplicate (seen before) or dead_letter (with the reason)."""

    event_id: str
    outcome: str
    ticket_id: int | None = None
    entry_id: int | None = None
    reason: str = ""
    dead_letter_id: int | None = None


class DeliveryResult(SQLModel):
    applied: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    events: list[EventOutcome] = []
