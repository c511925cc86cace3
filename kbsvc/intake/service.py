"""Import a helpdesk export: parse rows, upsert tickets in batches, optionally capture entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
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
from kbsvc.intake.mapping import Mapping
from kbsvc.intake.models import CaptureMode, ImportReport, RowError
from kbsvc.intake.parsing import ParsedRow, Reading, duplicate, parse_rows, parse_table
from kbsvc.intake.prepare import Plan, Row, validation_reason
from kbsvc.intake.readers import Table, read_table
from kbsvc.intake.workers import prepared
from kbsvc.tickets import service as tickets
from kbsvc.vocab import mapping as vocab_mapping

BATCH_SIZE = 500

Progress = Callable[[int], None]


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
    batch: Callable[[], list[ParsedRow]],
    prepared: list[Row],
    how: _Writes,
    report: ImportReport,
) -> None:
    """One savepoint per batch written in bulk; if the database refuses it, redo the batch
    (`batch()`: its rows parsed again) row by row, so one bad row costs one row."""
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
    for parsed in batch():
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


def _parsed(rows: list[tuple[int, dict[str, Any]]], reading: Reading) -> list[ParsedRow]:
    return parse_rows(rows, reading)[0]


def _report(table: Table, errors: list[RowError]) -> ImportReport:
    """The report of a table's import before any row is written."""
    return ImportReport(
        format=table.format,
        encoding=table.encoding,
        rows=len(table.rows) + len(table.bad_lines),
        invalid=len(errors),
        errors=errors,
    )


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
    how = _Writes(capture=capture, actor=actor, privacy=privacy)
    if strict:  # all-or-nothing: a single transaction, row by row
        rows, errors = parse_table(table, mapping, source=source)
        report = _report(table, errors)
        if errors:
            report.committed = False
            report.skipped = report.rows
            return report
        _write_all_or_nothing(session, rows, how, report)
        if progress:
            progress(len(rows))
    else:
        report = _report(table, [RowError(line=ln, message=m) for ln, m in table.bad_lines])
        reading = Reading(mapping.bind(table.headers), source, tuple(mapping.date_formats))
        size = max(1, batch_size)
        lines = [(row.line, row.values) for row in table.rows]
        batches = [lines[start : start + size] for start in range(0, len(lines), size)]
        plan = Plan(
            privacy=privacy,
            capture=capture is not CaptureMode.none,
            vocabulary=vocab_mapping.normalizer(session),
        )
        n = cores() if workers is None else workers
        first_seen: dict[str, int] = {}  # ticket id → the line that had it first
        for batch, ready in zip(batches, prepared(plan, reading, batches, n), strict=True):
            report.errors += ready.errors
            report.invalid += len(ready.errors)
            fresh: list[Row] = []
            for row, key in zip(ready.rows, ready.ids, strict=True):
                if key in first_seen:
                    report.errors.append(duplicate(key, row.line, first_seen[key]))
                    report.invalid += 1
                    continue
                first_seen[key] = row.line
                fresh.append(row)
            kept = {r.line for r in fresh}
            again = [(line, values) for line, values in batch if line in kept]
            _write_batch(session, partial(_parsed, again, reading), fresh, how, report)
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
