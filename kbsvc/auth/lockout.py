"""Per-account login backoff, read back from the audit log every worker writes to.

Refused logins are already audited (actor `user:<name>`, status 401, the client's address),
so the count needs no table of its own and holds across workers and restarts. Failures are
counted since the account's last successful login (or `kbsvc user unlock`), within WINDOW:

- per (account, address): after `lockout_after` failures the account is refused from that
  address, 30 s doubling per further failure up to `lockout_max_s`. Someone sharing the
  address (a ward's NAT) can lock the account from there, never from elsewhere: the admin
  signs in from another machine with the right password.
- per account, all addresses: after `account_lockout_after` failures (a guesser spread over
  many addresses) the account is refused everywhere on the same backoff; an admin lifts it
  with `kbsvc user unlock NAME`, or it lapses.

While locked the password is not checked at all, so a locked account answers the same to the
right and the wrong password (no oracle, no argon2 work).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.auth.models import AuditEvent
from kbsvc.config import AuthSettings
from kbsvc.exceptions import RateLimited
from kbsvc.timeutil import utcnow

LOGIN_ACTION = "POST /api/v1/auth/login"
UNLOCK_ACTION = "CLI user unlock"
WINDOW = timedelta(hours=1)
FIRST_DELAY_S = 30


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; audit times are always stored in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def actor(username: str) -> str:
    """The audit actor of a login attempt for `username`."""
    return f"user:{username}"[:120]


def _since(session: Session, who: str) -> datetime:
    """Failures count from the last success or unlock, at most WINDOW back."""
    reset = session.execute(
        select(func.max(col(AuditEvent.at))).where(
            col(AuditEvent.actor) == who,
            ((col(AuditEvent.action) == LOGIN_ACTION) & (col(AuditEvent.status) < 400))
            | (col(AuditEvent.action) == UNLOCK_ACTION),
        )
    ).scalar_one_or_none()
    floor = utcnow() - WINDOW
    return max(floor, _utc(reset)) if reset is not None else floor


def _failures(
    session: Session, who: str, since: datetime, client: str | None
) -> tuple[int, datetime | None]:
    stmt = select(func.count(), func.max(col(AuditEvent.at))).where(
        col(AuditEvent.actor) == who,
        col(AuditEvent.action) == LOGIN_ACTION,
        col(AuditEvent.status) == 401,
        col(AuditEvent.at) > since,
    )
    if client is not None:
        stmt = stmt.where(col(AuditEvent.client) == client)
    count, last = session.execute(stmt).one()
    return int(count), _utc(last) if last is not None else None


def _wait(count: int, threshold: int, last: datetime | None, max_s: int) -> int:
    if count < threshold or last is None:
        return 0
    delay = min(max_s, FIRST_DELAY_S * 2 ** min(count - threshold, 20))
    return max(0, int((last + timedelta(seconds=delay) - utcnow()).total_seconds()) + 1)


def check(session: Session, *, username: str, client: str, cfg: AuthSettings) -> None:
    """Raise RateLimited (Chinese message, Retry-After) while the account is locked."""
    who = actor(username)
    since = _since(session, who)
    here, last_here = _failures(session, who, since, client)
    wait = _wait(here, cfg.lockout_after, last_here, cfg.lockout_max_s)
    if wait:
        raise RateLimited(
            f"登录失败次数过多，此账号在本机已暂时锁定，请 {_human(wait)}后再试",
            retry_after=wait,
            scope="account_address",
        )
    total, last = _failures(session, who, since, None)
    wait = _wait(total, cfg.account_lockout_after, last, cfg.lockout_max_s)
    if wait:
        raise RateLimited(
            f"此账号登录失败次数过多，已暂时锁定，请 {_human(wait)}后再试，或请管理员解锁",
            retry_after=wait,
            scope="account",
        )


def _human(seconds: int) -> str:
    return f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
