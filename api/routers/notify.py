"""Notification channels and the delivery outbox, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, SessionDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.notify import service
from kbsvc.notify.models import ChannelIn, ChannelPublic, DeliveriesPublic, DeliveryStatus

router = APIRouter(
    prefix="/api/v1/notify", tags=["notify"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


@router.get("/channels", response_model=list[ChannelPublic])
def list_channels(session: SessionDep, _caller: Admin) -> list[ChannelPublic]:
    """Every channel; secrets and webhook tokens are never returned."""
    return service.list_channels(session)


@router.post("/channels", response_model=ChannelPublic, status_code=201)
def create_channel(data: ChannelIn, session: SessionDep, _caller: Admin) -> ChannelPublic:
    """Add a channel (WeCom, DingTalk, Feishu, webhook or mail) and the events it wants."""
    row = service.create_channel(session, data=data)
    return service.to_public(row)


@router.put("/channels/{channel_id}", response_model=ChannelPublic)
def update_channel(
    channel_id: int, data: ChannelIn, session: SessionDep, _caller: Admin
) -> ChannelPublic:
    """Replace a channel's settings; an empty secret keeps the stored one."""
    row = service.update_channel(session, channel_id=channel_id, data=data)
    return service.to_public(row)


@router.delete("/channels/{channel_id}", response_model=ChannelPublic)
def disable_channel(channel_id: int, session: SessionDep, _caller: Admin) -> ChannelPublic:
    """Disable a channel (kept for its delivery history)."""
    row = service.disable_channel(session, channel_id=channel_id)
    return service.to_public(row)


@router.get("/deliveries", response_model=DeliveriesPublic)
def list_deliveries(
    session: SessionDep,
    _caller: Admin,
    status: DeliveryStatus | None = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveriesPublic:
    """Outbox rows newest first, with counts per status."""
    return service.list_deliveries(session, status=status, offset=offset, limit=limit)


@router.post("/deliveries/{delivery_id}/retry", response_model=DeliveriesPublic)
def retry_delivery(delivery_id: int, session: SessionDep, _caller: Admin) -> DeliveriesPublic:
    """Queue a failed delivery again, now, with a fresh set of attempts."""
    service.retry(session, delivery_id=delivery_id)
    return service.list_deliveries(session, limit=1)
