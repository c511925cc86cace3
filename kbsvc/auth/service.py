"""API key issue and verification; password hashing for people."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from kbsvc.auth.models import ApiKey, ApiKeyChange, Principal, Role, User
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.timeutil import utcnow

KEY_PREFIX = "kb_"
LAST_USED_RESOLUTION = timedelta(minutes=5)
MAX_RATE_PER_MINUTE = 1_000_000


def hash_key(key: str) -> str:
    # Keys are 256-bit random, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def normalize_origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case; anything with a path, query or '*' is refused."""
    parsed = urlsplit(origin.strip())
    if (
        parsed.scheme not in ("http", "https")
        or not parsed.netloc
        or "*" in origin
        or parsed.path not in ("", "/")
        or parsed.query
        or parsed.fragment
    ):
        raise ValidationFailed(f"origin must be http(s)://host[:port], got {origin!r}")
    return f"{parsed.scheme}://{parsed.netloc}".lower()


def create_api_key(
    session: Session,
    *,
    name: str,
    role: Role,
    origins: list[str] | None = None,
    departments: list[str] | None = None,
    rate_per_minute: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; returns (row, plaintext). The plaintext is not stored.

    `rate_per_minute` overrides the role's rate limit for this key (None: the role's)."""
    if rate_per_minute is not None and not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        raise ValidationFailed(
            f"rate_per_minute must be 1–{MAX_RATE_PER_MINUTE}", field="rate_per_minute"
        )
    origins = [normalize_origin(o) for o in origins or []]
    if role is Role.widget and not origins:
        raise ValidationFailed("a widget key must be bound to at least one --origin")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        name=name,
        prefix=plaintext[:10],
        key_hash=hash_key(plaintext),
        role=role,
        origins=origins,
        departments=departments or [],
        rate_per_minute=rate_per_minute,
    )
    session.add(row)
    session.flush()
    return row, plaintext


def principal_for_key(session: Session, key: str) -> Principal | None:
    """The principal of a valid, unrevoked key, else None (reads the database every call;
    request paths go through `kbsvc.auth.keycache.KeyCache`)."""
    found = lookup_key(session, key)
    if found is None:
        return None
    principal, last_used = found
    if needs_touch(last_used):
        touch_key(session.get_bind(), principal.id)
    return principal


def lookup_key(session: Session, key: str) -> tuple[Principal, datetime | None] | None:
    """(principal, last use) of a valid, unrevoked key, else None; writes nothing."""
    row = session.execute(
        select(ApiKey).where(col(ApiKey.key_hash) == hash_key(key))
    ).scalar_one_or_none()
    if row is None or row.revoked:
        return None
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    principal = Principal(
        # Widget keys sit in page sources: what they write is labelled `widget:<name>` so a
        # reviewer tells it from people's and integrations' writes (citations, votes, drafts).
        kind="widget" if row.role == Role.widget else "apikey",
        name=row.name,
        role=Role(row.role),
        id=row.id,
        origins=tuple(row.origins),
        departments=tuple(row.departments),
        rate_per_minute=row.rate_per_minute,
    )
    return principal, last


def needs_touch(last: datetime | None) -> bool:
    """True when the stored last use is older than LAST_USED_RESOLUTION."""
    return last is None or utcnow() - last > LAST_USED_RESOLUTION


def touch_key(bind: Engine | Connection, key_id: int | None) -> datetime:
    """Store that the key was used now; returns that time."""
    now = utcnow()
    # A write per request would serialise all readers. Its own short transaction:
    # bookkeeping, not part of the request's change (kept if that fails).
    with Session(bind) as touch:
        touch.execute(update(ApiKey).where(col(ApiKey.id) == key_id).values(last_used_at=now))
        touch.commit()
    return now


def key_changed(session: Session, key_id: int) -> None:
    """Append to the key change sequence, so every worker's key cache drops what it holds."""
    session.add(ApiKeyChange(key_id=key_id))
    session.flush()


def last_key_change(session: Session) -> int:
    """Highest key change id (0 before any revocation or edit)."""
    return int(session.execute(select(func.max(col(ApiKeyChange.id)))).scalar_one() or 0)


def hash_password(password: str) -> str:
    """argon2id hash of a password."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the argon2 hash."""
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return PasswordHasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str,
    display_name: str = "",
    departments: list[str] | None = None,
    email: str = "",
) -> User:
    """Create a person who logs in to the web UI."""
    if len(password) < 8:
        raise ValidationFailed("password must be at least 8 characters")
    if email and ("@" not in email or len(email) > 200 or any(c.isspace() for c in email)):
        raise ValidationFailed(f"not an e-mail address: {email!r}")
    stmt = select(User).where(col(User.username) == username)
    exists = session.execute(stmt).scalar_one_or_none()
    if exists is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        display_name=display_name or username,
        departments=departments or [],
        email=email,
    )
    session.add(user)
    session.flush()
    return user


def list_api_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """Keys, oldest first (hashes never leave the service)."""
    stmt = select(ApiKey).order_by(col(ApiKey.id))
    if not include_revoked:
        stmt = stmt.where(col(ApiKey.revoked).is_(False))
    return list(session.execute(stmt).scalars())


def revoke_api_key(session: Session, *, ident: str) -> ApiKey:
    """Revoke a key by id, prefix or name; an ambiguous name or prefix is refused."""
    rows = list_api_keys(session, include_revoked=True)
    matches = [r for r in rows if ident in (str(r.id), r.prefix, r.name) and not r.revoked]
    if not matches:
        raise NotFound(f"no active API key with id, prefix or name {ident!r}")
    if len(matches) > 1:
        raise Conflict(
            f"{len(matches)} keys match {ident!r}; revoke by id", ids=[r.id for r in matches]
        )
    row = matches[0]
    row.revoked = True
    session.add(row)
    key_changed(session, row.id or 0)
    return row


def active_origins(session: Session) -> set[str]:
    """Origins bound to unrevoked keys (the widget's pages): part of the CORS allow-list."""
    stmt = select(col(ApiKey.origins)).where(col(ApiKey.revoked).is_(False))
    return {o for origins in session.execute(stmt).scalars() for o in (origins or [])}
