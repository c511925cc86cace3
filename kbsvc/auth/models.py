"""Users, roles and API keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from kbsvc.timeutil import utcnow


class Role(StrEnum):
    viewer = "viewer"
    editor = "editor"
    reviewer = "reviewer"
    admin = "admin"
    widget = "widget"  # embedded suggestion widget: suggest, search, cite, feedback only


# Ordered staff roles; `widget` sits outside the ladder and is checked explicitly.
RANK = {Role.viewer: 1, Role.editor: 2, Role.reviewer: 3, Role.admin: 4}


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(default="", max_length=100)
    # Where review notices go (`email` channels with audience=true); directory sign-in fills it.
    email: str = Field(default="", max_length=200)
    role: Role = Field(sa_column=Column(String(20), nullable=False))
    password_hash: str = Field(default="", max_length=200)
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """A hashed API key; the plaintext is shown once at creation."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, index=True)
    key_hash: str = Field(max_length=64, unique=True)
    role: Role = Field(sa_column=Column(String(20), nullable=False))
    origins: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked: bool = False
    # Requests a minute this key may make on the rate-limited paths; None = its role's default
    # (settings.rate_limit.roles). A widget key's limit applies per browser address.
    rate_per_minute: int | None = None


class ApiKeyChange(SQLModel, table=True):
    """One row per revocation or edit of a key: every worker's key cache follows max(id)."""

    __tablename__ = "api_key_changes"

    id: int | None = Field(default=None, primary_key=True)
    key_id: int
    at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """A web UI login; the cookie carries a signed random token whose hash is stored here."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked: bool = False


class EntryRestriction(SQLModel, table=True):
    """An entry restricted to departments: visible only to principals of one of them."""

    __tablename__ = "entry_restrictions"

    entry_id: int = Field(
        sa_column=Column(Integer, ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True)
    )
    department: str = Field(sa_column=Column(String(100), primary_key=True))


class AuditEvent(SQLModel, table=True):
    """One successful write (or login attempt): who, what, when, which objects; no ticket text."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(default="", max_length=120, index=True)
    role: str = Field(default="", max_length=20)
    action: str = Field(default="", max_length=200, index=True)  # "POST /api/v1/entries"
    object_type: str = Field(default="", max_length=50, index=True)
    object_id: str = Field(default="", max_length=64, index=True)  # first id, for filtering
    object_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: int = 0
    request_id: str = Field(default="", max_length=64)
    client: str = Field(default="", max_length=64)
    summary: str = Field(default="", max_length=500)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, an API key or nobody."""

    kind: str  # user | apikey | widget (a widget-role key) | anonymous | system
    name: str
    role: Role | None
    id: int | None = None
    origins: tuple[str, ...] = ()
    departments: tuple[str, ...] = field(default_factory=tuple)
    rate_per_minute: int | None = None  # API keys: the key's own limit, if it has one

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"

    def has(self, required: Role) -> bool:
        """True when this principal's role meets `required`."""
        if self.role is None:
            return False
        if required is Role.widget:
            return self.role is Role.widget or self.role in RANK
        if self.role is Role.widget:
            return False
        return RANK[self.role] >= RANK[required]


ANONYMOUS = Principal(kind="anonymous", name="anonymous", role=None)
# Internal jobs (editions frozen for every reader, imports, sync): sees every entry, by name.
SYSTEM = Principal(kind="system", name="system", role=Role.admin)
