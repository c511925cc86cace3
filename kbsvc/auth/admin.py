"""Administration of people and API keys (the web UI's admin pages and their API)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Field, Session, SQLModel, col

from kbsvc.auth import service
from kbsvc.auth.models import ApiKey, AuthSession, Role, User
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed

STAFF_ROLES = (Role.viewer, Role.editor, Role.reviewer, Role.admin)


class UserPublic(SQLModel):
    id: int
    username: str
    display_name: str
    role: Role
    departments: list[str]
    active: bool
    created_at: datetime


class UserIn(SQLModel):
    username: str = Field(min_length=2, max_length=64, regex=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(default="", max_length=100)
    role: Role
    departments: list[str] = Field(default_factory=list, max_length=50)
    password: str = Field(min_length=8, max_length=200)


class UserUpdate(SQLModel):
    display_name: str | None = Field(default=None, max_length=100)
    role: Role | None = None
    departments: list[str] | None = Field(default=None, max_length=50)
    active: bool | None = None


class PasswordReset(SQLModel):
    """A new one-time password, shown once to the admin who hands it over."""

    username: str
    password: str


class ApiKeyPublic(SQLModel):
    id: int
    name: str
    prefix: str
    role: Role
    origins: list[str]
    departments: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool
    rate_per_minute: int | None = None


class ApiKeyIn(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role
    origins: list[str] = Field(default_factory=list, max_length=50)
    departments: list[str] = Field(default_factory=list, max_length=50)
    # Requests a minute on suggest/search/widget; empty = the role's default.
    rate_per_minute: int | None = Field(default=None, ge=1, le=service.MAX_RATE_PER_MINUTE)


class ApiKeyCreated(ApiKeyPublic):
    key: str  # the plaintext, shown once


class ApiKeyUpdate(SQLModel):
    origins: list[str] = Field(max_length=50)


def _staff(role: Role) -> Role:
    if role not in STAFF_ROLES:
        raise ValidationFailed("a person's role is viewer, editor, reviewer or admin")
    return role


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(col(User.id))).scalars())


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", user_id=user_id)
    return user


def add_user(session: Session, data: UserIn) -> User:
    return service.create_user(
        session,
        username=data.username,
        role=_staff(data.role),
        password=data.password,
        display_name=data.display_name,
        departments=[d.strip() for d in data.departments if d.strip()],
    )


def update_user(session: Session, *, user_id: int, data: UserUpdate, actor_id: int | None) -> User:
    """Change role, departments, name or active; disabling signs the person out everywhere."""
    user = get_user(session, user_id)
    if user.id == actor_id and (data.active is False or (data.role and data.role != Role.admin)):
        raise Conflict("you cannot disable yourself or give up your own admin role")
    if data.role is not None:
        user.role = _staff(data.role)
    if data.departments is not None:
        user.departments = [d.strip() for d in data.departments if d.strip()]
    if data.display_name is not None:
        user.display_name = data.display_name.strip() or user.username
    if data.active is not None:
        user.active = data.active
    session.add(user)
    if data.active is False or data.role is not None:
        _end_sessions(session, user.id or 0)
    session.flush()
    return user


def reset_password(session: Session, *, user_id: int) -> PasswordReset:
    """Give the person a new random password and end their sessions."""
    user = get_user(session, user_id)
    password = secrets.token_urlsafe(9)
    user.password_hash = service.hash_password(password)
    session.add(user)
    _end_sessions(session, user.id or 0)
    session.flush()
    return PasswordReset(username=user.username, password=password)


def _end_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(AuthSession).where(col(AuthSession.user_id) == user_id).values(revoked=True)
    )


def create_key(session: Session, data: ApiKeyIn) -> ApiKeyCreated:
    row, plaintext = service.create_api_key(
        session,
        name=data.name,
        role=data.role,
        origins=data.origins,
        departments=data.departments,
        rate_per_minute=data.rate_per_minute,
    )
    return ApiKeyCreated(**ApiKeyPublic.model_validate(row).model_dump(), key=plaintext)


def set_origins(session: Session, *, key_id: int, origins: list[str]) -> ApiKey:
    """Change where a (widget) key may be used from."""
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked:
        raise NotFound(f"no active API key {key_id}", key_id=key_id)
    cleaned = [service.normalize_origin(o) for o in origins if o.strip()]
    if row.role is Role.widget and not cleaned:
        raise ValidationFailed("a widget key must stay bound to at least one origin")
    row.origins = cleaned
    session.add(row)
    service.key_changed(session, key_id)
    return row
