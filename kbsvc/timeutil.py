"""Timestamps are timezone-aware; naive intake times are hospital-local (China Standard Time)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# Helpdesk exports carry local wall-clock times without an offset.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Current time, aware UTC."""
    return datetime.now(UTC)


def as_aware(value: datetime | None) -> datetime | None:
    """Attach the hospital's local zone to a naive time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=LOCAL_TZ)
