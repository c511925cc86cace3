"""The database half of an import batch: a handful of statements per batch, capture included.

Row by row, a ticket costs about twenty statements (lookup, insert, link check, entry, one
query per tag, version, sequence, change) and a keyword pass of its own. Here a batch costs
about a dozen: one lookup of the batch's tickets and of their captured entries, one multi-row
insert per table of plain rows (kbsvc/intake/prepare.py made them; no model objects), one
sequence reservation for all change records. The result is the one `capture_ticket` gives
row by row (tests/kbsvc/intake/test_bulk_import.py); the rare case that needs more care, a
changed ticket whose entry the import refreshes, still goes through `capture_ticket`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlmodel import Session, SQLModel, col

from kbsvc.config import PrivacySettings
from kbsvc.entries import changes
from kbsvc.entries.capture import capture_ticket
from kbsvc.entries.models import (
    Entry,
    EntryChange,
    EntryLink,
    EntryStatus,
    EntryTag,
    EntryVersion,
    LinkKind,
    Tag,
)
from kbsvc.entries.versions import snapshot_of
from kbsvc.intake import CaptureMode
from kbsvc.intake.prepare import Row
from kbsvc.tickets.models import Ticket
from kbsvc.timeutil import utcnow

Key = tuple[str, str]


def _table(model: type[SQLModel]) -> Table:
    """A model's table: inserting plain rows into it is a Core statement, which skips the
    ORM's bulk path (per-row bookkeeping for objects that never exist: ~20 % of a write)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


@dataclass
class BatchCounts:
    """What a batch did (added to the import report by the caller)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entries_created: int = 0
    entries_updated: int = 0


def _upsert_tickets(
    session: Session, rows: Sequence[Row], counts: BatchCounts
) -> list[tuple[Row, str]]:
    """Each row's outcome (created, updated, unchanged); inserts and updates the tickets."""
    sources = sorted({r.key[0] for r in rows})
    stmt = select(
        col(Ticket.source), col(Ticket.external_id), col(Ticket.id), col(Ticket.content_hash)
    ).where(col(Ticket.source).in_(sources), col(Ticket.external_id).in_([r.key[1] for r in rows]))
    existing = {(s, e): (i, h) for s, e, i, h in session.execute(stmt)}
    now = utcnow()
    out: list[tuple[Row, str]] = []
    new: list[dict[str, Any]] = []
    changed: list[Row] = []
    for row in rows:
        found = existing.get(row.key)
        if found is None:
            new.append({**row.ticket, "created_at": now, "updated_at": now})
            out.append((row, "created"))
        elif found[1] == row.ticket["content_hash"]:
            out.append((row, "unchanged"))
        else:
            changed.append(row)
            out.append((row, "updated"))
    if new:
        session.execute(insert(_table(Ticket)), new)
    if changed:
        ids = [existing[r.key][0] for r in changed]
        current = {
            t.id: t
            for t in session.execute(select(Ticket).where(col(Ticket.id).in_(ids))).scalars()
        }
        for row, ticket_id in zip(changed, ids, strict=True):
            ticket = current[ticket_id]
            for key, value in row.ticket.items():
                if key != "raw":
                    setattr(ticket, key, value)
            ticket.raw = row.ticket["raw"] or ticket.raw
            ticket.updated_at = now
            session.add(ticket)
    session.flush()
    for _r, outcome in out:
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    _touch_linked(session, [r.key for r, o in out if o != "unchanged"])
    return out


def record_changes(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """One change record per entry, with one sequence reservation; entry id → its sequence."""
    if not entry_ids:
        return {}
    last = changes.reserve(session, len(entry_ids))
    seqs = dict(zip(entry_ids, range(last - len(entry_ids) + 1, last + 1), strict=True))
    now = utcnow()
    session.execute(
        insert(_table(EntryChange)),
        [{"seq": s, "entry_id": e, "op": "upsert", "at": now} for e, s in seqs.items()],
    )
    return seqs


def _touch_linked(session: Session, keys: Sequence[Key]) -> None:
    """Entries indexed with these tickets' text (tickets.service._touch_linked_entries)."""
    if not keys:
        return
    wanted = set(keys)
    stmt = select(col(EntryLink.entry_id), col(EntryLink.source), col(EntryLink.external_id)).where(
        col(EntryLink.source).in_(sorted({s for s, _ in wanted})),
        col(EntryLink.external_id).in_(sorted({e for _, e in wanted})),
    )
    touched = sorted({i for i, s, e in session.execute(stmt) if (s, e) in wanted})
    seqs = record_changes(session, touched)
    if seqs:
        session.execute(update(Entry), [{"id": i, "change_seq": s} for i, s in seqs.items()])


def _captured(session: Session, keys: Sequence[Key]) -> set[Key]:
    """The tickets already captured into an entry (capture.find_source_entry), by key."""
    if not keys:
        return set()
    wanted = set(keys)
    stmt = select(col(EntryLink.source), col(EntryLink.external_id)).where(
        col(EntryLink.kind) == LinkKind.source,
        col(EntryLink.source).in_(sorted({s for s, _ in wanted})),
        col(EntryLink.external_id).in_(sorted({e for _, e in wanted})),
    )
    return {(s, e) for s, e in session.execute(stmt) if (s, e) in wanted}


def _tag_ids(session: Session, names: set[str]) -> dict[str, int]:
    """Tag name → id, creating the missing tags with one insert."""
    if not names:
        return {}
    stmt = select(col(Tag.name), col(Tag.id)).where(col(Tag.name).in_(sorted(names)))
    ids: dict[str, int] = {n: i for n, i in session.execute(stmt)}
    missing = sorted(names - set(ids))
    if missing:
        made = session.execute(
            insert(Tag).returning(col(Tag.id), sort_by_parameter_order=True),
            [{"name": n} for n in missing],
        ).scalars()
        ids.update(zip(missing, made, strict=True))
    return ids


def _create_entries(
    session: Session, rows: Sequence[Row], *, actor: str, status: EntryStatus
) -> None:
    """entries.create + link_ticket for each row's prefilled entry, as multi-row inserts."""
    now = utcnow()
    made = {"status": status, "created_by": actor, "updated_by": actor}
    values = [
        {
            **{k: v for k, v in r.entry.items() if k != "tags"},
            **made,
            "created_at": now,
            "updated_at": now,
        }
        for r in rows
        if r.entry is not None
    ]
    ids = list(
        session.execute(
            insert(_table(Entry)).returning(_table(Entry).c.id, sort_by_parameter_order=True),
            values,
        ).scalars()
    )
    tag_names: list[list[str]] = [r.entry["tags"] for r in rows if r.entry is not None]
    tag_ids = _tag_ids(session, {n for names in tag_names for n in names})
    pairs = [
        {"entry_id": i, "tag_id": tag_ids[n]}
        for i, names in zip(ids, tag_names, strict=True)
        for n in names
    ]
    if pairs:
        session.execute(insert(_table(EntryTag)), pairs)
    seqs = record_changes(session, ids)
    session.execute(update(Entry), [{"id": i, "change_seq": s} for i, s in seqs.items()])
    state = str(status)
    versions = []
    links = []
    for fields, entry_id, names, row in zip(values, ids, tag_names, rows, strict=True):
        versions.append(
            {
                "entry_id": entry_id,
                "version": 1,
                "snapshot": snapshot_of(fields, names, state),
                "author": actor,
                "note": "created",
                "created_at": now,
            }
        )
        links.append(
            {
                "entry_id": entry_id,
                "source": row.key[0],
                "external_id": row.key[1],
                "kind": LinkKind.source.value,
                "created_by": actor,
                "created_at": now,
            }
        )
    session.execute(insert(_table(EntryVersion)), versions)
    # Entry, tags and link commit together: one change record covers them (row by row, the
    # link records a second one).
    session.execute(insert(_table(EntryLink)), links)


def write_batch(
    session: Session,
    rows: Sequence[Row],
    *,
    capture: CaptureMode,
    actor: str,
    privacy: PrivacySettings,
) -> BatchCounts:
    """Upsert a batch of prepared rows and capture their entries; flushes only."""
    counts = BatchCounts()
    written = _upsert_tickets(session, rows, counts)
    if capture is CaptureMode.none:
        return counts
    status = EntryStatus.published if capture is CaptureMode.published else EntryStatus.draft
    solved = [(r, o) for r, o in written if r.ticket["solution"].strip()]
    captured = _captured(session, [r.key for r, _ in solved])
    fresh = [r for r, _ in solved if r.key not in captured and r.entry is not None]
    if fresh:
        _create_entries(session, fresh, actor=actor, status=status)
        counts.entries_created += len(fresh)
    refresh = [r for r, o in solved if r.key in captured and o != "unchanged"]
    if refresh:
        # A changed ticket refreshes its entry unless someone edited it: the careful path.
        stmt = select(Ticket).where(
            col(Ticket.source).in_(sorted({r.key[0] for r in refresh})),
            col(Ticket.external_id).in_([r.key[1] for r in refresh]),
        )
        tickets = {(t.source, t.external_id): t for t in session.execute(stmt).scalars()}
        for row in refresh:
            _entry, result = capture_ticket(
                session,
                tickets[row.key],
                actor=actor,
                status=status,
                refresh=True,
                privacy=privacy,
            )
            counts.entries_updated += result == "updated"
    session.flush()
    return counts
