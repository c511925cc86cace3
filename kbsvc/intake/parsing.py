"""Export rows → TicketIn: field mapping, dates, durations, priorities; errors name their line.

Pure functions of a row and the file's bound mapping, so an import can parse its batches in
the worker processes that prepare them (kbsvc/intake/workers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kbsvc.intake import values as V
from kbsvc.intake.mapping import BoundMapping, Mapping
from kbsvc.intake.models import RowError
from kbsvc.intake.prepare import validation_reason
from kbsvc.intake.readers import Table
from kbsvc.tickets.models import TicketIn

_DATES = ("opened_at", "resolved_at")
_CONTENT = ("title", "symptom", "description", "solution")


@dataclass
class ParsedRow:
    line: int
    item: TicketIn


def _raw(values: dict[str, Any]) -> dict[str, Any]:
    """The row as imported, JSON-safe (dates as ISO text)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or isinstance(value, str | int | float | bool | list | dict):
            out[key] = value
        else:
            out[key] = V.cell_text(value)
    return out


def parse_row(
    values: dict[str, Any], bound: BoundMapping, *, source: str, date_formats: Sequence[str] = ()
) -> TicketIn:
    """One row → TicketIn; raises ValueError with a readable reason."""
    fields = bound.extract(values, V.is_blank)
    data: dict[str, Any] = {"source": source, "raw": _raw(values)}
    for name, value in fields.items():
        if name in _DATES:
            try:
                data[name] = V.parse_datetime(value, date_formats)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        elif name == "handling_minutes":
            try:
                data[name] = V.parse_minutes(value, hours=bound.hours)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        elif name == "priority":
            data[name] = V.normalise_priority(value)
        elif name == "tags":
            data[name] = value if isinstance(value, list) else V.cell_text(value)
        else:
            data[name] = V.cell_text(value)
    if not any(data.get(k) for k in _CONTENT):
        raise ValueError("no title, symptom, description or solution")
    try:
        return TicketIn(**data)
    except ValidationError as exc:
        raise ValueError(validation_reason(exc)) from None


def parse_table(
    table: Table, mapping: Mapping, *, source: str
) -> tuple[list[ParsedRow], list[RowError]]:
    """Valid rows and row errors; a repeated ticket id is an error on its later rows."""
    reading = Reading(mapping.bind(table.headers), source, tuple(mapping.date_formats))
    parsed, errors = parse_rows([(row.line, row.values) for row in table.rows], reading)
    errors += [RowError(line=line, message=msg) for line, msg in table.bad_lines]
    rows: list[ParsedRow] = []
    first_seen: dict[str, int] = {}
    for row in parsed:
        key = row.item.resolved_external_id()
        if key in first_seen:
            errors.append(duplicate(key, row.line, first_seen[key]))
            continue
        first_seen[key] = row.line
        rows.append(row)
    errors.sort(key=lambda e: e.line)
    return rows, errors


@dataclass(frozen=True)
class Reading:
    """How one file's rows are parsed (what a worker needs besides the rows)."""

    bound: BoundMapping
    source: str
    date_formats: tuple[str, ...] = ()


def parse_rows(
    rows: Sequence[tuple[int, dict[str, Any]]], how: Reading
) -> tuple[list[ParsedRow], list[RowError]]:
    """Rows of (line, values) parsed one by one: the valid ones and the errors, in order
    (duplicates are the caller's to find: they span batches)."""
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    for line, values in rows:
        try:
            item = parse_row(values, how.bound, source=how.source, date_formats=how.date_formats)
        except ValueError as exc:
            errors.append(RowError(line=line, message=str(exc)))
            continue
        parsed.append(ParsedRow(line, item))
    return parsed, errors


def duplicate(key: str, line: int, first: int) -> RowError:
    """The error of a row whose ticket id an earlier row of the file already had."""
    return RowError(line=line, message=f"duplicate ticket {key!r} (first on line {first})")
