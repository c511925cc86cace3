"""A batch of imported tickets written with a handful of statements, capture included.

Row by row, a ticket costs about twenty statements (lookup, insert, link check, entry, one
query per tag, version, sequence, change) and a keyword pass of its own. Here a batch of a
thousand costs about a dozen: one lookup of the batch's tickets and of their captured entries,
one multi-row insert per table, one sequence reservation for all change records. The result
is the one `capture_ticket` gives row by row (tests/kbsvc/intake/test_bulk_import.py); the
rare case that needs more care, a changed ticket whose entry the import refreshes, still goes
through `capture_ticket`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from kbsvc.config import PrivacySettings
from kbsvc.entries import changes
from kbsvc.entries.capture import _masked, _prefill, capture_ticket
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
from kbsvc.entries.versions import snapshot
from kbsvc.intake import CaptureMode
from kbsvc.tickets.models import Ticket, TicketIn
from kbsvc.timeutil import utcnow
from kbsvc.vocab import mapping as vocab_mapping

_TICKET_COLUMNS = [c.name for c in Ticket.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
_ENTRY_COLUMNS = [c.name for c in Entry.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]


@dataclass
class BatchCounts:
    """What a batch did (added to the import report by the caller)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    entries_created: int = 0
    entries_updated: int = 0


class _Canonical:
    """vocab_mapping.canonical_fields with each (kind, value) looked up once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[tuple[str, str], str] = {}

    def __call__(self, fields: dict[str, Any]) -> dict[str, Any]:
        out = dict(fields)
        for kind in vocab_mapping.FIELDS:
            value = out.get(kind)
            if isinstance(value, str):
                key = (kind, value)
                if key not in self.seen:
                    self.seen[key] = vocab_mapping.canonical(self.session, kind, value)
                out[kind] = self.seen[key]
        return out


def _row(obj: Any, columns: Sequence[str]) -> dict[str, Any]:
    return {c: getattr(obj, c) for c in columns}


def _upsert_tickets(
    session: Session, items: Sequence[TicketIn], counts: BatchCounts, canonical: _Canonical
) -> list[tuple[Ticket, str]]:
    """Tickets of the batch, in order, with their outcome (created, updated, unchanged)."""
    keys = [(i.source, i.resolved_external_id()) for i in items]
    sources = sorted({s for s, _ in keys})
    stmt = select(Ticket).where(
        col(Ticket.source).in_(sources), col(Ticket.external_id).in_([e for _, e in keys])
    )
    existing = {(t.source, t.external_id): t for t in session.execute(stmt).scalars()}
    out: list[tuple[Ticket, str]] = []
    new: list[Ticket] = []
    for item, (_source, ext) in zip(items, keys, strict=True):
        fields = canonical(item.model_dump(exclude={"raw", "external_id"}))
        current = existing.get((item.source, ext))
        if current is None:
            ticket = Ticket(**fields, external_id=ext, raw=item.raw)
            ticket.content_hash = ticket.content_key()
            new.append(ticket)
            out.append((ticket, "created"))
            continue
        new_hash = Ticket(**fields, external_id=ext).content_key()
        if new_hash == current.content_hash:
            out.append((current, "unchanged"))
            continue
        for key, value in fields.items():
            setattr(current, key, value)
        current.raw = item.raw or current.raw
        current.content_hash = new_hash
        current.updated_at = utcnow()
        session.add(current)
        out.append((current, "updated"))
    if new:
        ids = session.execute(
            insert(Ticket).returning(col(Ticket.id), sort_by_parameter_order=True),
            [_row(t, _TICKET_COLUMNS) for t in new],
        ).scalars()
        for ticket, ticket_id in zip(new, ids, strict=True):
            ticket.id = ticket_id
    session.flush()
    for _t, outcome in out:
        setattr(counts, outcome, getattr(counts, outcome) + 1)
    _touch_linked(session, [t for t, o in out if o != "unchanged"])
    return out


def record_changes(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """One change record per entry, with one sequence reservation; entry id → its sequence."""
    if not entry_ids:
        return {}
    last = changes.reserve(session, len(entry_ids))
    seqs = dict(zip(entry_ids, range(last - len(entry_ids) + 1, last + 1), strict=True))
    now = utcnow()
    session.execute(
        insert(EntryChange),
        [{"seq": s, "entry_id": e, "op": "upsert", "at": now} for e, s in seqs.items()],
    )
    return seqs


def _touch_linked(session: Session, tickets: Sequence[Ticket]) -> None:
    """Entries indexed with these tickets' text (tickets.service._touch_linked_entries)."""
    if not tickets:
        return
    keys = {(t.source, t.external_id) for t in tickets}
    stmt = select(col(EntryLink.entry_id), col(EntryLink.source), col(EntryLink.external_id)).where(
        col(EntryLink.source).in_(sorted({s for s, _ in keys})),
        col(EntryLink.external_id).in_(sorted({e for _, e in keys})),
    )
    touched = sorted({i for i, s, e in session.execute(stmt) if (s, e) in keys})
    seqs = record_changes(session, touched)
    if seqs:
        session.execute(update(Entry), [{"id": i, "change_seq": s} for i, s in seqs.items()])


def _captured(session: Session, tickets: Sequence[Ticket]) -> dict[tuple[str, str], Entry]:
    """The entry each ticket was captured into (capture.find_source_entry), by ticket key."""
    keys = {(t.source, t.external_id) for t in tickets}
    if not keys:
        return {}
    stmt = (
        select(Entry, col(EntryLink.source), col(EntryLink.external_id))
        .join(EntryLink, col(EntryLink.entry_id) == col(Entry.id))
        .where(
            col(EntryLink.kind) == LinkKind.source,
            col(EntryLink.source).in_(sorted({s for s, _ in keys})),
            col(EntryLink.external_id).in_(sorted({e for _, e in keys})),
        )
        .order_by(col(Entry.id))
    )
    found: dict[tuple[str, str], Entry] = {}
    for entry, source, ext in session.execute(stmt):
        found.setdefault((source, ext), entry)
    return found


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
    session: Session,
    tickets: Sequence[Ticket],
    *,
    actor: str,
    status: EntryStatus,
    privacy: PrivacySettings,
    canonical: _Canonical,
) -> None:
    """entries.create + link_ticket for each ticket, as multi-row inserts."""
    from indexer.keywords import default_extractor

    default_extractor()  # jieba's tables load once, before the batch, not inside the first row
    prefilled = [_masked(_prefill(t), privacy)[0] for t in tickets]
    now = utcnow()
    entries: list[Entry] = []
    for data in prefilled:
        fields = canonical(data.model_dump(exclude={"tags", "restricted_departments"}))
        entries.append(
            Entry(
                **fields,
                status=status,
                created_by=actor,
                updated_by=actor,
                created_at=now,
                updated_at=now,
            )
        )
    ids = list(
        session.execute(
            insert(Entry).returning(col(Entry.id), sort_by_parameter_order=True),
            [_row(e, _ENTRY_COLUMNS) for e in entries],
        ).scalars()
    )
    tag_names = [list(dict.fromkeys(n.strip() for n in d.tags if n.strip())) for d in prefilled]
    tag_ids = _tag_ids(session, {n for names in tag_names for n in names})
    pairs = [
        {"entry_id": i, "tag_id": tag_ids[n]}
        for i, names in zip(ids, tag_names, strict=True)
        for n in names
    ]
    if pairs:
        session.execute(insert(EntryTag), pairs)
    seqs = record_changes(session, ids)
    session.execute(update(Entry), [{"id": i, "change_seq": s} for i, s in seqs.items()])
    versions = []
    links = []
    for entry, entry_id, names, ticket in zip(entries, ids, tag_names, tickets, strict=True):
        entry.id = entry_id
        versions.append(
            {
                "entry_id": entry_id,
                "version": 1,
                "snapshot": snapshot(entry, names),
                "author": actor,
                "note": "created",
                "created_at": now,
            }
        )
        links.append(
            {
                "entry_id": entry_id,
                "source": ticket.source,
                "external_id": ticket.external_id,
                "kind": LinkKind.source.value,
                "created_by": actor,
                "created_at": now,
            }
        )
    session.execute(insert(EntryVersion), versions)
    # Entry, tags and link commit together: one change record covers them (row by row, the
    # link records a second one).
    session.execute(insert(EntryLink), links)


def write_batch(
    session: Session,
    items: Sequence[TicketIn],
    *,
    capture: CaptureMode,
    actor: str,
    privacy: PrivacySettings,
) -> BatchCounts:
    """Upsert a batch of (already masked) tickets and capture their entries; flushes only."""
    counts = BatchCounts()
    canonical = _Canonical(session)
    written = _upsert_tickets(session, items, counts, canonical)
    if capture is CaptureMode.none:
        return counts
    status = EntryStatus.published if capture is CaptureMode.published else EntryStatus.draft
    solved = [(t, o) for t, o in written if t.solution.strip()]
    captured = _captured(session, [t for t, _ in solved])
    fresh = [t for t, _ in solved if (t.source, t.external_id) not in captured]
    if fresh:
        _create_entries(
            session, fresh, actor=actor, status=status, privacy=privacy, canonical=canonical
        )
        counts.entries_created += len(fresh)
    for ticket, outcome in solved:
        if (ticket.source, ticket.external_id) in captured and outcome != "unchanged":
            # A changed ticket refreshes its entry unless someone edited it: the careful path.
            _entry, result = capture_ticket(
                session, ticket, actor=actor, status=status, refresh=True, privacy=privacy
            )
            counts.entries_updated += result == "updated"
    session.flush()
    return counts
