"""Import a helpdesk export: parse rows, upsert tickets in batches, optionally capture entries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from indexer.pool import cores
from kbsvc.config import PrivacySettings
from kbsvc.db import savepoint
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import ValidationFailed
from kbsvc.intake import bulk
from kbsvc.intake import values as V
from kbsvc.intake.mapping import BoundMapping, Mapping
from kbsvc.intake.models import CaptureMode, ImportReport, RowError
from kbsvc.intake.prepare import Plan, Row, validation_reason
from kbsvc.intake.readers import Table, read_table
from kbsvc.intake.workers import prepared
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import TicketIn
from kbsvc.vocab import mapping as vocab_mapping

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
        raise ValueError(validation_reason(exc)) from None


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


@dataclass(frozen=True)
class _Writes:
    """How rows are written: capture mode, actor, and the site's privacy rules for drafts."""

    capture: CaptureMode
    actor: str
    privacy: PrivacySettings


def _write_row(session: Session, parsed: ParsedRow, how: _Writes, report: ImportReport) -> None:
    """Mask, upsert and capture one row (--strict, and a batch the database refused)."""
    from kbsvc.entries.capture import capture_ticket
    from kbsvc.privacy.pii import scrub_ticket_in

    item, findings = scrub_ticket_in(parsed.item, how.privacy)
    report.pii_masked += len(findings)
    ticket, outcome = tickets.upsert_one(session, item)
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
    session: Session,
    batch: list[ParsedRow],
    prepared: list[Row],
    how: _Writes,
    report: ImportReport,
) -> None:
    """One savepoint per batch written in bulk; if the database refuses it, redo the batch
    row by row, so one bad row costs one row."""
    snapshot = report.model_copy(deep=True)
    ok = [r for r in prepared if not r.problem]
    try:
        with savepoint(session):
            counts = bulk.write_batch(
                session, ok, capture=how.capture, actor=how.actor, privacy=how.privacy
            )
        report.imported += counts.created
        report.updated += counts.updated
        report.unchanged += counts.unchanged
        report.entries_created += counts.entries_created
        report.entries_updated += counts.entries_updated
        report.pii_masked += sum(r.found for r in prepared)
        for row in prepared:
            if row.problem:
                report.errors.append(RowError(line=row.line, message=row.problem))
                report.invalid += 1
            elif row.entry_problem and how.capture is not CaptureMode.none:
                report.errors.append(RowError(line=row.line, message=row.entry_problem))
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
        except ValidationError as exc:
            report.errors.append(RowError(line=parsed.line, message=validation_reason(exc)))
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
    except ValidationError as exc:
        raise ValidationFailed(
            f"line {line}: {validation_reason(exc)}; strict import wrote nothing", line=line
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
    workers: int | None = None,
) -> ImportReport:
    """Upsert a table's valid rows; `strict` writes nothing unless every row is valid.

    `batch_done` lets the caller that owns the transaction commit each batch (the CLI does,
    so a killed import keeps whole batches and a re-run finishes it). Batches are prepared in
    `workers` processes (default: one per core) while this one writes.

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
    how = _Writes(capture=capture, actor=actor, privacy=privacy)
    if strict:  # all-or-nothing: a single transaction, row by row
        _write_all_or_nothing(session, rows, how, report)
        if progress:
            progress(len(rows))
    else:
        size = max(1, batch_size)
        batches = [rows[start : start + size] for start in range(0, len(rows), size)]
        plan = Plan(
            privacy=privacy,
            capture=capture is not CaptureMode.none,
            vocabulary=vocab_mapping.normalizer(session),
        )
        work = [[(p.line, p.item) for p in batch] for batch in batches]
        n = cores() if workers is None else workers
        for batch, ready in zip(batches, prepared(plan, work, n), strict=True):
            _write_batch(session, batch, ready, how, report)
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
