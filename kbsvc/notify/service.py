"""Channels (settings + admin-managed), enqueueing into the outbox, and delivery status."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kbsvc.config import ChannelSettings
from kbsvc.db import savepoint
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.notify import messages
from kbsvc.notify.models import (
    ChannelIn,
    ChannelKind,
    ChannelPublic,
    DeliveriesPublic,
    DeliveryPublic,
    DeliveryStatus,
    EventType,
    NotifyChannel,
    OutboxDelivery,
)
from kbsvc.timeutil import utcnow


def emit(
    session: Session,
    event: EventType,
    key: str,
    data: dict[str, Any],
    audience: list[str] | None = None,
) -> list[OutboxDelivery]:
    """Queue one delivery per enabled channel subscribed to `event` (flush, no commit)."""
    channels = session.exec(select(NotifyChannel).where(col(NotifyChannel.enabled) == True)).all()  # noqa: E712
    text = messages.render(event, data)
    rows = []
    for ch in channels:
        if event.value not in ch.events:
            continue
        payload: dict[str, Any] = {**text, "event": event.value, "data": data}
        if ChannelKind(ch.kind) is ChannelKind.email:
            payload["to"] = sorted(
                set(ch.mail_to) | (set(audience or []) if ch.audience else set())
            )
            if not payload["to"]:
                continue
        rows.append(
            OutboxDelivery(
                delivery_key=f"{key}@{ch.id}",
                channel_id=ch.id or 0,
                event=event.value,
                payload=payload,
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def emit_once(session: Session, event: EventType, key: str, data: dict[str, Any]) -> bool:
    """Like `emit` for scheduled events that several processes may race to enqueue."""
    try:
        with savepoint(session):
            emit(session, event, key, data)
    except IntegrityError:
        return False  # another worker enqueued this day's / week's notice first
    return True


def sync_settings_channels(session: Session, declared: list[ChannelSettings]) -> None:
    """Make the `managed_by=settings` rows match the settings (flush, no commit)."""
    existing = {c.name: c for c in session.exec(select(NotifyChannel)).all()}
    for cfg in declared:
        row = existing.get(cfg.name) or NotifyChannel(name=cfg.name, kind=ChannelKind(cfg.kind))
        if row.id is not None and row.managed_by != "settings":
            raise Conflict(f"channel {cfg.name!r} exists in the admin UI; rename one of them")
        for field, value in cfg.model_dump().items():
            setattr(row, field, value)
        row.kind = ChannelKind(cfg.kind)
        row.managed_by = "settings"
        session.add(row)
    names = {c.name for c in declared}
    for row in existing.values():
        if row.managed_by == "settings" and row.name not in names:
            row.enabled = False  # removed from settings; rows stay for the delivery history
            session.add(row)
    session.flush()


def to_public(ch: NotifyChannel) -> ChannelPublic:
    # Robot URLs carry their token in the query string: show scheme, host and path only.
    url = ch.url.split("?", 1)[0]
    return ChannelPublic(
        id=ch.id or 0,
        name=ch.name,
        kind=ch.kind,
        url=url,
        has_secret=bool(ch.secret),
        events=list(ch.events),
        mail_to=list(ch.mail_to),
        audience=ch.audience,
        enabled=ch.enabled,
        managed_by=ch.managed_by,
    )


def list_channels(session: Session) -> list[ChannelPublic]:
    return [
        to_public(c)
        for c in session.exec(select(NotifyChannel).order_by(col(NotifyChannel.id))).all()
    ]


def _check(data: ChannelIn) -> None:
    try:
        ChannelSettings(**data.model_dump(mode="json"))
    except ValidationError as exc:
        msg = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ValidationFailed(msg) from None


def create_channel(session: Session, *, data: ChannelIn) -> NotifyChannel:
    _check(data)
    if session.exec(select(NotifyChannel).where(col(NotifyChannel.name) == data.name)).first():
        raise Conflict(f"a channel named {data.name!r} exists")
    row = NotifyChannel(**data.model_dump(mode="json"))
    row.kind = data.kind
    session.add(row)
    session.flush()
    return row


def _admin_channel(session: Session, channel_id: int) -> NotifyChannel:
    row = session.get(NotifyChannel, channel_id)
    if row is None:
        raise NotFound(f"no channel {channel_id}")
    if row.managed_by == "settings":
        raise Conflict(f"channel {row.name!r} is declared in settings; change it there")
    return row


def update_channel(session: Session, *, channel_id: int, data: ChannelIn) -> NotifyChannel:
    _check(data)
    row = _admin_channel(session, channel_id)
    for field, value in data.model_dump(mode="json").items():
        if field == "secret" and not value:
            continue  # the secret is never shown, so an empty one means "keep it"
        setattr(row, field, value)
    row.kind = data.kind
    session.add(row)
    session.flush()
    return row


def disable_channel(session: Session, *, channel_id: int) -> NotifyChannel:
    """Channels with a delivery history are disabled, not deleted."""
    row = _admin_channel(session, channel_id)
    row.enabled = False
    session.add(row)
    session.flush()
    return row


def list_deliveries(
    session: Session, *, status: DeliveryStatus | None = None, offset: int = 0, limit: int = 50
) -> DeliveriesPublic:
    names = {c.id: c.name for c in session.exec(select(NotifyChannel)).all()}
    stmt = select(OutboxDelivery)
    if status is not None:
        stmt = stmt.where(col(OutboxDelivery.status) == status)
    rows = session.exec(
        stmt.order_by(col(OutboxDelivery.id).desc()).offset(offset).limit(limit)
    ).all()
    counts = session.exec(
        select(col(OutboxDelivery.status), func.count()).group_by(col(OutboxDelivery.status))
    ).all()
    by_status = Counter({str(s): n for s, n in counts})
    data = [
        DeliveryPublic(
            id=r.id or 0,
            delivery_key=r.delivery_key,
            channel=names.get(r.channel_id, "?"),
            event=r.event,
            title=str(r.payload.get("title", "")),
            status=r.status,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            last_error=r.last_error,
            created_at=r.created_at,
            sent_at=r.sent_at,
        )
        for r in rows
    ]
    total = by_status.get(status.value, 0) if status else sum(by_status.values())
    return DeliveriesPublic(data=data, count=total, by_status=dict(by_status))


def retry(session: Session, *, delivery_id: int) -> OutboxDelivery:
    """Send a dead (or pending) delivery again now, with a fresh set of attempts."""
    row = session.get(OutboxDelivery, delivery_id)
    if row is None:
        raise NotFound(f"no delivery {delivery_id}")
    if row.status == DeliveryStatus.sent:
        raise Conflict(f"delivery {delivery_id} was already sent")
    row.status, row.attempts, row.next_attempt_at = DeliveryStatus.pending, 0, utcnow()
    row.lease_until, row.last_error = None, ""
    session.add(row)
    session.flush()
    return row
