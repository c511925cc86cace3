"""Notification channels, the delivery outbox and their API shapes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, String
from sqlmodel import Field, SQLModel

from kbsvc.timeutil import utcnow


class EventType(StrEnum):
    entry_submitted = "entry.submitted"  # → reviewers
    entry_rejected = "entry.rejected"  # → the entry's author, with the reviewer's comment
    flag_opened = "flag.opened"  # feedback or a system upgrade put an entry in question
    review_due = "review.due"  # daily: published entries past their review date
    weekly_digest = "digest.weekly"  # Mondays: knowledge gaps and most-reused entries


class ChannelKind(StrEnum):
    wecom = "wecom"  # 企业微信群机器人
    dingtalk = "dingtalk"  # 钉钉自定义机器人 (optional 加签)
    feishu = "feishu"  # 飞书自定义机器人 (optional 签名校验)
    webhook = "webhook"  # generic JSON, HMAC-SHA256 signed when a secret is set
    email = "email"  # SMTP


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    dead = "dead"  # gave up after max attempts; an admin may retry it


class NotifyChannel(SQLModel, table=True):
    """Where notifications go and which events it wants."""

    __tablename__ = "notify_channels"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True, index=True)
    kind: ChannelKind = Field(sa_column=Column(String(20), nullable=False))
    url: str = Field(default="", max_length=1000)
    secret: str = Field(default="", max_length=200)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mail_to: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Mail only: also send to the people the event concerns (reviewers, the entry's author).
    audience: bool = False
    enabled: bool = True
    # "settings": declared in KBSVC_NOTIFY__CHANNELS and re-synced at start; read-only in the API.
    managed_by: str = Field(default="admin", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class OutboxDelivery(SQLModel, table=True):
    """One message for one channel, written in the transaction of the event that caused it."""

    __tablename__ = "notify_outbox"

    id: int | None = Field(default=None, primary_key=True)
    # Unique: the same event never enqueues twice; receivers may use it to drop a resend.
    delivery_key: str = Field(max_length=200, unique=True)
    channel_id: int = Field(
        sa_column=Column(Integer, ForeignKey("notify_channels.id"), nullable=False, index=True)
    )
    event: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_column=Column(String(10), nullable=False, index=True)
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    lease_until: datetime | None = None
    claimed_by: str = Field(default="", max_length=100)
    last_error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None


class ChannelIn(SQLModel):
    """An admin-managed channel."""

    name: str = Field(min_length=1, max_length=64)
    kind: ChannelKind
    url: str = Field(default="", max_length=1000)
    secret: str = Field(default="", max_length=200)
    events: list[EventType] = Field(min_length=1)
    mail_to: list[str] = []
    audience: bool = False
    enabled: bool = True


class ChannelPublic(SQLModel):
    """A channel as admins see it: the secret and the webhook token never leave the server."""

    id: int
    name: str
    kind: ChannelKind
    url: str
    has_secret: bool
    events: list[str]
    mail_to: list[str]
    audience: bool
    enabled: bool
    managed_by: str


class DeliveryPublic(SQLModel):
    id: int
    delivery_key: str
    channel: str
    event: str
    title: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


class DeliveriesPublic(SQLModel):
    data: list[DeliveryPublic]
    count: int
    by_status: dict[str, int]
