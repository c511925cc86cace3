"""Portable SQL pieces for reports (SQLite and PostgreSQL) and the reporting period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from kbsvc.exceptions import ValidationFailed
from kbsvc.timeutil import LOCAL_TZ

# Asia/Shanghai has had no daylight saving since 1991, so a fixed offset is exact.
_LOCAL_OFFSET_HOURS = 8


class month_of(FunctionElement[str]):  # noqa: N801 - reads like the SQL function it is
    """'YYYY-MM' of a UTC timestamp, in hospital-local time."""

    type = String()
    inherit_cache = True


@compiles(month_of, "sqlite")
def _month_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    (col,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(col, **kw)}, '+{_LOCAL_OFFSET_HOURS} hours')"


@compiles(month_of, "postgresql")
def _month_pg(element: Any, compiler: Any, **kw: Any) -> str:
    (col,) = list(element.clauses)
    return f"to_char({compiler.process(col, **kw)} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


class hours_between(FunctionElement[float]):  # noqa: N801
    """(end − start) in hours as a float."""

    type = Float()
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # Whole seconds, exactly as PostgreSQL's epoch difference (julianday drifts in the 5th digit).
    return (
        f"((CAST(strftime('%s', {end}) AS INTEGER) - CAST(strftime('%s', {start}) AS INTEGER))"
        " / 3600.0)"
    )


@compiles(hours_between, "postgresql")
def _hours_pg(element: Any, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 3600.0)"


# Messages are Chinese: the reports page shows them to people as they are; the field's
# name stays in brackets for API clients.
_NAMES = {"from": "开始日期", "to": "结束日期"}
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)


def _ym(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass(frozen=True)
class Period:
    """Inclusive local dates; either end may be open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        # Reports count tickets and searches: a year outside this range is a typo, and
        # year 9999 overflows the exclusive end bound (the day after the last one).
        for name, day in (("from", self.start), ("to", self.end)):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise ValidationFailed(
                    f"{_NAMES[name]}（{name}）应在 {FIRST_DAY} 至 {LAST_DAY} 之间", field=name
                )

    @classmethod
    def parse(cls, start: str | date | None, end: str | date | None) -> Period:
        def conv(v: str | date | None, name: str) -> date | None:
            if isinstance(v, date):
                return v
            if not v:
                return None
            try:
                return date.fromisoformat(v)
            except ValueError:
                raise ValidationFailed(
                    f"{_NAMES[name]}（{name}）不是有效日期，请写成 2025-06-30 这样的格式",
                    field=name,
                    value=str(v)[:40],
                ) from None

        p = cls(conv(start, "from"), conv(end, "to"))
        if p.start and p.end and p.start > p.end:
            raise ValidationFailed(
                f"开始日期（from）{p.start} 晚于结束日期（to）{p.end}，请调换或重新选择",
                field="from",
            )
        return p

    @property
    def start_utc(self) -> datetime | None:
        return datetime.combine(self.start, time(), LOCAL_TZ) if self.start else None

    @property
    def end_utc(self) -> datetime | None:
        """Exclusive upper bound: midnight after the last day."""
        if self.end is None:
            return None
        return datetime.combine(self.end + timedelta(days=1), time(), LOCAL_TZ)

    def where(self, col: ColumnElement[Any]) -> list[ColumnElement[bool]]:
        """Conditions restricting `col` to the period."""
        conds: list[ColumnElement[bool]] = []
        if self.start_utc:
            conds.append(col >= self.start_utc)
        if self.end_utc:
            conds.append(col < self.end_utc)
        return conds

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
        }

    def months(self, seen: list[str]) -> list[str]:
        """Every month of the period (or of the data, for an open end), gaps filled."""
        # f-strings, not strftime: glibc writes year 887 as "887", not "0887".
        first = _ym(self.start) if self.start else min(seen, default=None)
        last = _ym(self.end) if self.end else max(seen, default=None)
        if first is None or last is None:
            return []
        y, m = int(first[:4]), int(first[5:])
        out: list[str] = []
        while f"{y:04d}-{m:02d}" <= last and len(out) < 1200:
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out
