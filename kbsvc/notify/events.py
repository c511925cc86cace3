"""Domain events → outbox rows in the caller's transaction (its commit makes them real)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from kbsvc.auth import policy
from kbsvc.auth.models import Principal, Role, User
from kbsvc.entries.models import Entry
from kbsvc.notify import service
from kbsvc.notify.models import EventType
from kbsvc.timeutil import utcnow

# Group chats are wider than one department: list only what any reviewer may see.
_REVIEWER = Principal(kind="system", name="notify", role=Role.reviewer)


def _reviewer_emails(session: Session) -> list[str]:
    rows = session.exec(
        select(col(User.email)).where(
            col(User.active) == True,  # noqa: E712
            col(User.role).in_([Role.reviewer, Role.admin]),
            col(User.email) != "",
        )
    ).all()
    return sorted(set(rows))


def _email_of(session: Session, actor: str) -> list[str]:
    # Actors are principal labels ("user:zhangsan"); only people have mailboxes.
    kind, _, name = actor.partition(":")
    if kind != "user":
        return []
    user = session.exec(select(User).where(col(User.username) == name)).first()
    return [user.email] if user and user.email and user.active else []


def _title(session: Session, entry_id: int, title: str) -> str:
    # Chat groups are wider than a department: restricted entries go out without their title.
    return "受限条目" if policy.restrictions_of(session, [entry_id]).get(entry_id) else title


def entry_submitted(session: Session, entry: Entry, *, actor: str, version: int) -> None:
    title = _title(session, entry.id or 0, entry.title)
    data = {"entry_id": entry.id, "title": title, "system": entry.system, "actor": actor}
    key = f"entry.submitted:{entry.id}:v{version}"
    service.emit(session, EventType.entry_submitted, key, data, _reviewer_emails(session))


def entry_rejected(
    session: Session, entry: Entry, *, actor: str, comment: str, version: int
) -> None:
    title = _title(session, entry.id or 0, entry.title)
    data = {"entry_id": entry.id, "title": title, "actor": actor, "comment": comment}
    key = f"entry.rejected:{entry.id}:v{version}"
    service.emit(session, EventType.entry_rejected, key, data, _email_of(session, entry.created_by))


def system_upgraded(session: Session, *, system: str, entry_ids: list[int], comment: str) -> None:
    titles = session.exec(
        select(Entry.title).where(col(Entry.id).in_(entry_ids), policy.visible_filter(_REVIEWER))
    ).all()
    data = {
        "system": system,
        "count": len(entry_ids),
        "titles": list(titles),
        "hidden": len(entry_ids) - len(titles),
        "reason": "system_upgraded",
        "comment": comment,
    }
    key = f"flag.opened:upgrade:{system}:{min(entry_ids)}-{max(entry_ids)}:{utcnow():%Y%m%d%H%M%S}"
    service.emit(session, EventType.flag_opened, key[:180], data, _reviewer_emails(session))


def flag_opened(
    session: Session, *, flag_id: int, entry_id: int, reason: str, comment: str
) -> None:
    entry = session.get(Entry, entry_id)
    title = _title(session, entry_id, entry.title) if entry else f"#{entry_id}"
    data = {"entry_id": entry_id, "title": title, "reason": reason, "comment": comment}
    service.emit(
        session, EventType.flag_opened, f"flag.opened:{flag_id}", data, _reviewer_emails(session)
    )
