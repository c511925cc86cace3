"""Web UI logins: password check, server-side sessions behind a signed cookie, CSRF tokens."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlmodel import Session, col

from kbsvc.auth import lockout
from kbsvc.auth.models import AuthSession, Principal, Role, User
from kbsvc.auth.service import hash_password, verify_password
from kbsvc.config import LdapSettings, Settings
from kbsvc.exceptions import AccountDisabled, NoRole, Unauthorized, ValidationFailed
from kbsvc.timeutil import utcnow

SESSION_COOKIE = "kbsvc_session"
CSRF_COOKIE = "kbsvc_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SECRET_FILE = "secret_key"


def secret_key(settings: Settings) -> str:
    """The configured secret, else one generated once and kept in the data dir (mode 0600)."""
    if settings.auth.secret_key:
        return settings.auth.secret_key
    path = settings.data_dir / SECRET_FILE
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: when several workers start at once exactly one writes the file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be between create and write
            value = path.read_text(encoding="ascii").strip()
            if len(value) >= 32:
                return value
            time.sleep(0.05)
        raise RuntimeError(f"{path} exists but holds no usable secret; delete it") from None
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return value


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="kbsvc-session")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")


def principal_for_user(user: User) -> Principal:
    """The principal a logged-in person acts as."""
    return Principal(
        kind="user",
        name=user.username,
        role=Role(user.role),
        id=user.id,
        departments=tuple(user.departments),
    )


def _directory_login(
    session: Session, user: User | None, username: str, password: str, cfg: LdapSettings
) -> User:
    """Sign in through the directory and bring the local copy of the person up to date."""
    from kbsvc.auth import ldap

    if user is not None and not user.active:  # an admin switched the account off here
        raise AccountDisabled(ldap.DISABLED)
    try:
        found = ldap.authenticate(cfg, username, password)
    except (AccountDisabled, NoRole):
        if user is not None:  # disabled or removed from the groups: end open sessions now
            # Its own transaction: the refused login rolls back, the revocation must stand.
            with Session(session.get_bind()) as own:
                revoke_user_sessions(own, user.id or 0)
                own.commit()
        raise
    # The directory is the source of truth for role, departments, name and mail.
    user = user or User(username=found.username, role=found.role, password_hash="")
    user.role, user.departments = found.role, found.departments
    user.display_name, user.email = found.display_name[:100], found.email[:200]
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session, *, username: str, password: str, ldap_cfg: LdapSettings | None = None
) -> User:
    """The active user with this password, else Unauthorized (same message either way).

    Local accounts with a password (the admin's break-glass account) are checked here first;
    everyone else goes to the directory when `ldap_cfg.enabled`.
    """
    user: User | None = session.execute(
        select(User).where(col(User.username) == username)
    ).scalar_one_or_none()
    if ldap_cfg is not None and ldap_cfg.enabled and (user is None or not user.password_hash):
        return _directory_login(session, user, username, password, ldap_cfg)
    if user is None or not user.active or not user.password_hash:
        verify_password(_dummy_hash(), password)  # same work as a real check: no user probing
        raise Unauthorized("wrong username or password")
    if not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return user


def login(
    session: Session, *, username: str, password: str, settings: Settings, client: str = ""
) -> tuple[User, str, str]:
    """Check the password and open a session: returns (user, cookie value, CSRF token).

    A locked account (kbsvc/auth/lockout.py) is refused before its password is checked.
    """
    lockout.check(session, username=username, client=client, cfg=settings.auth)
    user = authenticate(session, username=username, password=password, ldap_cfg=settings.ldap)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(hours=settings.auth.session_hours)
    assert user.id is not None
    session.add(
        AuthSession(token_hash=_hash(token), user_id=user.id, csrf_token=csrf, expires_at=expires)
    )
    session.flush()
    return user, _serializer(secret_key(settings)).dumps(token), csrf


def _token(cookie: str, secret: str) -> str | None:
    with contextlib.suppress(BadSignature):
        value = _serializer(secret).loads(cookie)
        return value if isinstance(value, str) else None
    return None


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def resolve(session: Session, cookie: str, secret: str) -> tuple[Principal, str] | None:
    """(principal, CSRF token) of a live session cookie, else None."""
    token = _token(cookie, secret)
    if token is None:
        return None
    row = session.execute(
        select(AuthSession).where(col(AuthSession.token_hash) == _hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked or _aware(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return principal_for_user(user), row.csrf_token


def logout(session: Session, cookie: str, secret: str) -> bool:
    """End every session of the person behind a cookie; True when one was open.

    Every session, not just this browser's: signing out on a shared ward PC must also end the
    session left open on the PC down the corridor (and one a thief copied the cookie of).
    """
    token = _token(cookie, secret)
    if token is None:
        return False
    row = session.execute(
        select(AuthSession).where(col(AuthSession.token_hash) == _hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked:
        return False
    revoke_user_sessions(session, row.user_id)
    session.flush()
    return True


def change_password(session: Session, *, user_id: int, current: str, new: str) -> None:
    """Set a local account's own password and end every session of that person (no commit)."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("not logged in")
    if not user.password_hash:
        raise ValidationFailed("目录账号的密码请在目录（LDAP）中修改", field="current_password")
    if not verify_password(user.password_hash, current):
        raise ValidationFailed("当前密码不正确", field="current_password")
    if new == current:
        raise ValidationFailed("新密码不能与当前密码相同", field="new_password")
    user.password_hash = hash_password(new)
    session.add(user)
    revoke_user_sessions(session, user_id)
    session.flush()


def revoke_user_sessions(session: Session, user_id: int) -> None:
    """Log a person out everywhere (password change, deactivation); no commit."""
    session.execute(
        update(AuthSession).where(col(AuthSession.user_id) == user_id).values(revoked=True)
    )
