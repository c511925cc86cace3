"""Audit log: record writes (who, what, when, which objects) and read them back, filtered."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col

from kbsvc.auth.models import AuditEvent
from kbsvc.timeutil import as_aware


class AuditEventPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    object_type: str
    object_id: str
    object_ids: list[str]
    status: int
    request_id: str
    client: str
    summary: str


class AuditEventsPublic(SQLModel):
    data: list[AuditEventPublic]
    count: int


def _clip(value: object, n: int) -> str:
    return str(value or "")[:n]


def record(
    engine_or_session: Engine | Session,
    *,
    actor: str,
    role: str = "",
    action: str,
    object_type: str = "",
    object_ids: list[str] | None = None,
    status: int = 0,
    request_id: str = "",
    client: str = "",
    summary: str = "",
) -> None:
    """Append one event: to the caller's session (committed, or rolled back, with the change it
    records), or given an engine, in its own transaction (refused logins, failed requests)."""
    ids = [_clip(i, 64) for i in (object_ids or [])][:100]
    event = AuditEvent(
        actor=_clip(actor, 120),
        role=_clip(role, 20),
        action=_clip(action, 200),
        object_type=_clip(object_type, 50),
        object_id=ids[0] if ids else "",
        object_ids=ids,
        status=status,
        request_id=_clip(request_id, 64),
        client=_clip(client, 64),
        summary=_clip(summary, 500),
    )
    if isinstance(engine_or_session, Session):
        engine_or_session.add(event)
        return
    with Session(engine_or_session) as session:
        session.add(event)
        session.commit()


def list_events(
    session: Session,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: int = 0,
    limit: int = 50,
) -> AuditEventsPublic:
    """Events matching every given filter, newest first."""
    stmt = select(AuditEvent)
    if actor:
        stmt = stmt.where(col(AuditEvent.actor) == actor)
    if action:
        # "POST /api/v1/entries" exactly, or a prefix such as "DELETE " or "POST /api/v1/entries".
        stmt = stmt.where(col(AuditEvent.action).startswith(action, autoescape=True))
    if object_type:
        stmt = stmt.where(col(AuditEvent.object_type) == object_type)
    if object_id:
        stmt = stmt.where(col(AuditEvent.object_id) == object_id)
    if since:
        stmt = stmt.where(col(AuditEvent.at) >= _utc(since))
    if until:
        stmt = stmt.where(col(AuditEvent.at) < _utc(until))
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)
    ).scalars()
    return AuditEventsPublic(data=[AuditEventPublic.model_validate(r) for r in rows], count=count)


def _utc(value: datetime) -> datetime:
    # Naive filter times are hospital-local, like every naive time we accept.
    aware = as_aware(value)
    assert aware is not None
    return aware.astimezone(UTC)
