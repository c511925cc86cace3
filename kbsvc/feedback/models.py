"""Helpful / not-helpful votes on entries and the review flags that ask a human to look."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kbsvc.timeutil import utcnow


class FlagStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class FlagReason(StrEnum):
    feedback = "feedback"  # not helpful, with a comment
    system_upgraded = "system_upgraded"  # a vendor upgrade may have made the fix stale
    manual = "manual"


class Feedback(SQLModel, table=True):
    """One vote per (entry, ticket) or, without a ticket, per (entry, caller); repeats update it."""

    __tablename__ = "entry_feedback"
    __table_args__ = (UniqueConstraint("entry_id", "voter_key", name="uq_feedback_voter"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    # "ticket:<source>:<external_id>" or "principal:<label>"
    voter_key: str = Field(max_length=300)
    helpful: bool
    comment: str = Field(default="", sa_type=Text)
    source: str = Field(default="", max_length=64)
    external_id: str = Field(default="", max_length=128)
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ReviewFlag(SQLModel, table=True):
    """Someone (or something) says an entry needs review."""

    __tablename__ = "review_flags"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("entries.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    reason: FlagReason = Field(sa_column=Column(String(30), nullable=False))
    comment: str = Field(default="", sa_type=Text)
    feedback_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("entry_feedback.id", ondelete="SET NULL"), nullable=True
        ),
    )
    status: FlagStatus = Field(
        default=FlagStatus.open, sa_column=Column(String(20), nullable=False, index=True)
    )
    created_by: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_by: str = Field(default="", max_length=100)
    resolved_at: datetime | None = None
    resolution: str = Field(default="", sa_type=Text)


class FeedbackIn(SQLModel):
    helpful: bool
    comment: str = Field(default="", max_length=2000)
    source: str = Field(default="", max_length=64)
    external_id: str = Field(default="", max_length=128)


class FeedbackPublic(SQLModel):
    id: int
    entry_id: int
    helpful: bool
    comment: str
    source: str
    external_id: str
    created_at: datetime
    updated_at: datetime
    flag_id: int | None = None
    created_by: str = ""
    via_widget: bool = False  # written with a widget key (kbsvc/widget/bounds.py)


class FlagPublic(SQLModel):
    id: int
    entry_id: int
    entry_title: str = ""
    reason: FlagReason
    comment: str
    status: FlagStatus
    created_by: str
    via_widget: bool = False  # raised by a widget key's not-helpful vote
    created_at: datetime
    resolved_by: str
    resolved_at: datetime | None
    resolution: str


class FlagsPublic(SQLModel):
    data: list[FlagPublic]
    count: int


class ResolveIn(SQLModel):
    resolution: str = Field(default="", max_length=2000)
