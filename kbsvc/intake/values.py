"""Cell values from helpdesk exports: text cleanup, dates in local formats, priorities."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

# What exports write into a cell that has no value.
PLACEHOLDERS = frozenset({"-", "--", "—", "/", "n/a", "na", "#n/a", "null", "none", "nan", "空"})
DATE_PLACEHOLDERS = PLACEHOLDERS | {"无", "不详", "未知", "暂无", "0", "0000-00-00"}

_DATE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:：时点]\s*(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:：]?\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT = re.compile(
    r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Excel serials for 1954..2119: wide enough for any ticket, narrow enough to refuse plain numbers.
_SERIAL_RANGE = (20_000.0, 80_000.0)

PRIORITY = {
    "紧急": ("紧急", "特急", "非常紧急", "urgent", "critical", "p0", "p1", "一级", "1级", "最高"),
    "高": ("高", "较高", "重要", "high", "p2", "二级", "2级", "急"),
    "中": ("中", "一般", "普通", "正常", "medium", "normal", "p3", "三级", "3级"),
    "低": ("低", "较低", "不急", "low", "p4", "四级", "4级", "最低"),
}
_PRIORITY_LOOKUP = {alias: canon for canon, aliases in PRIORITY.items() for alias in aliases}


def is_blank(value: Any) -> bool:
    """True for None, empty strings and export placeholders such as '-' or 'N/A'."""
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return not text or text.lower() in PLACEHOLDERS
    return False


def cell_text(value: Any) -> str:
    """A cell as clean text: integral floats lose '.0', newlines are normalised."""
    if is_blank(value):
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, list | tuple):
        return "，".join(cell_text(v) for v in value if not is_blank(v))
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\u3000", " ")
    return text.strip()


def _from_match(m: re.Match[str]) -> datetime:
    parts = {k: int(v) for k, v in m.groupdict().items() if v and k != "tz"}
    value = datetime(
        parts["y"], parts["m"], parts["d"], parts.get("H", 0), parts.get("M", 0), parts.get("S", 0)
    )
    tz = m.groupdict().get("tz")
    if tz:
        if tz == "Z":
            return value.replace(tzinfo=UTC)
        sign = 1 if tz[0] == "+" else -1
        hours, minutes = int(tz[1:3]), int(tz[-2:])
        return value.replace(tzinfo=timezone(sign * timedelta(hours=hours, minutes=minutes)))
    return value


def parse_datetime(value: Any, formats: Sequence[str] = ()) -> datetime | None:
    """A date/time from a cell; None when blank. Raises ValueError for junk.

    Accepts datetime cells, Excel serial numbers, ISO, 2025/3/14 8:21, 2025.3.14,
    2025年3月14日 8时21分, 20250314 and any extra strptime `formats`.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, int | float):
        return _from_serial(float(value))
    text = str(value).strip()
    if not text or text.lower() in DATE_PLACEHOLDERS:
        return None
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    text = text.replace("：", ":").replace("上午", " ").replace("下午", " PM ")
    pm = " PM " in text
    text = " ".join(text.replace(" PM ", " ").split())
    match = _DATE.match(text) or _COMPACT.match(text)
    try:
        if match:
            result = _from_match(match)
            return result + timedelta(hours=12) if pm and result.hour < 12 else result
        return _from_serial(float(text))
    except (ValueError, OverflowError):
        raise ValueError(f"not a recognised date: {str(value)[:40]!r}") from None


def _from_serial(serial: float) -> datetime:
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        raise ValueError(f"not a recognised date: {serial!r}")
    return _EXCEL_EPOCH + timedelta(seconds=round(serial * 86400))


def normalise_priority(value: Any) -> str:
    """Canonical 紧急/高/中/低 for the usual spellings; anything else kept as written."""
    text = cell_text(value)
    key = text.lower().replace(" ", "").removesuffix("优先级").removesuffix("级别")
    return _PRIORITY_LOOKUP.get(key, text[:20])


_DURATION = re.compile(
    r"^(?:(?P<d>\d+(?:\.\d+)?)\s*(?:天|d|days?)\s*)?"
    r"(?:(?P<h>\d+(?:\.\d+)?)\s*(?:个?小时|h|hrs?|hours?|时)\s*)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)\s*(?:分钟|分|m|min|mins|minutes?)?)?$"
)


def parse_minutes(value: Any, *, hours: bool = False) -> int | None:
    """Handling time in whole minutes: 90, 1.5小时, 2h30m, 1:30, 45分钟; None when blank.

    A bare number is minutes, or hours when the column says so (`hours`). Raises ValueError."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _whole_minutes(float(value) * (60 if hours else 1), value)
    text = cell_text(value).lower().replace(" ", "")
    if not text or text in DATE_PLACEHOLDERS:
        return None
    if re.fullmatch(r"\d{1,3}:\d{2}", text):
        h, m = text.split(":")
        return _whole_minutes(int(h) * 60 + int(m), value)
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return _whole_minutes(float(text) * (60 if hours else 1), value)
    match = _DURATION.match(text)
    if not match or not any(match.groupdict().values()):
        raise ValueError(f"not a duration: {str(value)[:40]!r} (use minutes, e.g. 90 or 1.5小时)")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return _whole_minutes(
        parts.get("d", 0) * 1440 + parts.get("h", 0) * 60 + parts.get("m", 0), value
    )


def _whole_minutes(minutes: float, original: Any) -> int:
    if minutes < 0 or minutes != minutes:
        raise ValueError(f"not a duration: {str(original)[:40]!r}")
    return round(minutes)
