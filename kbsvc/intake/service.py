"""Import a helpdesk export: parse rows, upsert tickets in batches, optionally capture entries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from kbsvc.config import PrivacySettings
from kbsvc.db import savepoint
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import ValidationFailed
from kbsvc.intake import bulk
from kbsvc.intake import values as V
from kbsvc.intake.mapping import BoundMapping, Mapping
from kbsvc.intake.models import CaptureMode, ImportReport, RowError
from kbsvc.intake.readers import Table, read_table
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import TicketIn

BATCH_SIZE = 500
_DATES = ("opened_at", "resolved_at")
_CONTENT = ("title", "symptom", "description", "solution")

Progress = Callable[[int], None]


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
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise ValueError(f"{where}: {err.get('msg', 'invalid value')}") from None


def parse_table(
    table: Table, mapping: Mapping, *, source: str
) -> tuple[list[ParsedRow], list[RowError]]:
    """Valid rows and row errors; a repeated ticket id is an error on its later rows."""
    bound = mapping.bind(table.headers)
    rows: list[ParsedRow] = []
    errors = [RowError(line=line, message=msg) for line, msg in table.bad_lines]
    first_seen: dict[str, int] = {}
    for row in table.rows:
        try:
            item = parse_row(row.values, bound, source=source, date_formats=mapping.date_formats)
        except ValueError as exc:
            errors.append(RowError(line=row.line, message=str(exc)))
            continue
        key = item.resolved_external_id()
        if key in first_seen:
            errors.append(
                RowError(
                    line=row.line,
                    message=(f"duplicate ticket {key!r} (first on line {first_seen[key]})"),
                )
            )
            continue
        first_seen[key] = row.line
        rows.append(ParsedRow(row.line, item))
    errors.sort(key=lambda e: e.line)
    return rows, errors


def _mask_rows(
    rows: list[ParsedRow], privacy: PrivacySettings, report: ImportReport
) -> list[ParsedRow]:
    """Mask patient identifiers before anything is stored (raw row too, unless kept by setting)."""
    from kbsvc.privacy.pii import scrub_tickets_in

    masked = []
    for parsed, (item, found) in zip(
        rows, scrub_tickets_in([p.item for p in rows], privacy), strict=True
    ):
        report.pii_masked += found
        masked.append(ParsedRow(parsed.line, item))
    return masked


@dataclass(frozen=True)
class _Writes:
    """How rows are written: capture mode, actor, and the site's privacy rules for drafts."""

    capture: CaptureMode
    actor: str
    privacy: PrivacySettings


def _write_row(session: Session, parsed: ParsedRow, how: _Writes, report: ImportReport) -> None:
    from kbsvc.entries.capture import capture_ticket

    ticket, outcome = tickets.upsert_one(session, parsed.item)
    counter = {"created": "imported", "updated": "updated", "unchanged": "unchanged"}[outcome]
    setattr(report, counter, getattr(report, counter) + 1)
    if how.capture is CaptureMode.none or not ticket.solution.strip():
        return
    status = EntryStatus.published if how.capture is CaptureMode.published else EntryStatus.draft
    # An unchanged ticket leaves its entry alone; a changed one refreshes what the import owns.
    _entry, result = capture_ticket(
        session,
        ticket,
        actor=how.actor,
        status=status,
        refresh=outcome != "unchanged",
        privacy=how.privacy,
    )
    if result == "created":
        report.entries_created += 1
    elif result == "updated":
        report.entries_updated += 1


def _write_batch(
    session: Session, batch: list[ParsedRow], how: _Writes, report: ImportReport
) -> None:
    """One savepoint per batch written in bulk; if the database refuses it, redo the batch
    row by row, so one bad row costs one row."""
    snapshot = report.model_copy(deep=True)
    try:
        with savepoint(session):
            counts = bulk.write_batch(
                session,
                [p.item for p in batch],
                capture=how.capture,
                actor=how.actor,
                privacy=how.privacy,
            )
        report.imported += counts.created
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        report.entries_created += counts.entries_created
        report.entries_updated += counts.entries_updated
        return
    except SQLAlchemyError:
        pass  # the batch's savepoint is undone; earlier batches stand
    for key in ("imported", "updated", "unchanged", "entries_created", "entries_updated"):
        setattr(report, key, getattr(snapshot, key))
    for parsed in batch:
        try:
            with savepoint(session):
                _write_row(session, parsed, how, report)
        except SQLAlchemyError as exc:
            report.errors.append(
                RowError(line=parsed.line, message=f"not saved: {_db_reason(exc)}")
            )
            report.invalid += 1
    session.flush()


def _db_reason(exc: SQLAlchemyError) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0][:200]


def _write_all_or_nothing(
    session: Session, rows: list[ParsedRow], how: _Writes, report: ImportReport
) -> None:
    """--strict: one savepoint; a row the database refuses undoes all of it."""
    line = 0
    try:
        with savepoint(session):
            for parsed in rows:
                line = parsed.line
                _write_row(session, parsed, how, report)
    except SQLAlchemyError as exc:
        raise ValidationFailed(
            f"line {line}: not saved: {_db_reason(exc)}; strict import wrote nothing", line=line
        ) from None


def import_table(
    session: Session,
    table: Table,
    *,
    source: str | None = None,
    mapping: Mapping | None = None,
    capture: CaptureMode = CaptureMode.none,
    strict: bool = False,
    actor: str = "",
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
    privacy: PrivacySettings,
    batch_done: Callable[[], None] | None = None,
) -> ImportReport:
    """Upsert a table's valid rows; `strict` writes nothing unless every row is valid.

    `batch_done` lets the caller that owns the transaction commit each batch (the CLI does,
    so a killed import keeps whole batches and a re-run finishes it).

    Patient identifiers in tickets and captured drafts are masked per the site's `privacy`.
    """
    mapping = mapping or Mapping()
    source = (source or mapping.source or "default").strip()
    if not source or len(source) > 64:
        raise ValidationFailed("source must be 1–64 characters")
    actor = actor or f"import:{source}"
    rows, errors = parse_table(table, mapping, source=source)
    report = ImportReport(
        format=table.format,
        encoding=table.encoding,
        rows=len(rows) + len(errors),
        invalid=len(errors),
        errors=errors,
    )
    if strict and errors:
        report.committed = False
        report.skipped = report.rows
        return report
    rows = _mask_rows(rows, privacy, report)
    # --strict is all-or-nothing, so it is a single transaction; otherwise batches.
    how = _Writes(capture=capture, actor=actor, privacy=privacy)
    size = (len(rows) or 1) if strict else max(1, batch_size)
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        if strict:
            _write_all_or_nothing(session, batch, how, report)
        else:
            _write_batch(session, batch, how, report)
            if batch_done:
                batch_done()
        if progress:
            progress(len(batch))
    report.errors.sort(key=lambda e: e.line)
    report.skipped = report.rows - report.imported - report.updated
    return report


def import_bytes(
    session: Session,
    data: bytes,
    name: str,
    *,
    max_rows: int,
    fmt: str | None = None,
    **options: Any,
) -> ImportReport:
    """Read an export held in memory and import it (see import_table)."""
    return import_table(session, read_table(data, name, max_rows=max_rows, fmt=fmt), **options)
