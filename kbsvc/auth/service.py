"""API key issue and verification; password hashing for people."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlmodel import Session

from kbsvc.auth.models import ApiKey, Principal, Role, User
from kbsvc.exceptions import Conflict, ValidationFailed
from kbsvc.timeutil import utcnow

KEY_PREFIX = "kb_"


def _hash_key(key: str) -> str:
    # Keys are 256-bit random, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    session: Session,
    *,
    name: str,
    role: Role,
    origins: list[str] | None = None,
    departments: list[str] | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns (row, plaintext). The plaintext is not stored."""
    origins = origins or []
    for origin in origins:
        if not origin.startswith(("http://", "https://")):
            raise ValidationFailed(f"origin must be http(s)://host[:port], got {origin!r}")
    if role is Role.widget and not origins:
        raise ValidationFailed("a widget key must be bound to at least one --origin")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=plaintext[:10],
        key_hash=_hash_key(plaintext),
        role=role,
        origins=[o.rstrip("/") for o in origins],
        departments=departments or [],
    )
    session.add(row)
    session.commit()
    return row, plaintext


def principal_for_key(session: Session, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key, else None."""
    row = session.execute(
        select(ApiKey).where(ApiKey.key_hash == _hash_key(key))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if row is None or row.revoked:
        return None
    row.last_used_at = utcnow()
    session.add(row)
    session.commit()
    return Principal(
        kind="apikey",
        name=row.name,
        role=Role(row.role),
        id=row.id,
        origins=tuple(row.origins),
        departments=tuple(row.departments),
    )


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the argon2 hash."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError, InvalidHashError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session, *, username: str, role: Role, password: str, display_name: str = ""
) -> User:
    """Create a person who logs in to the web UI."""
    if len(password) < 8:
        raise ValidationFailed("password must be at least 8 characters")
    exists = session.execute(select(User).where(User.username == username)).scalar_one_or_none()  # type: ignore[arg-type]
    if exists is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(username=username, role=role, password_hash=hash_password(password),
                display_name=display_name or username)
    session.add(user)
    session.commit()
    return user
