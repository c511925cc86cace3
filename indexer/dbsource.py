"""Read entries (with tags and linked tickets' text) from the database as EntryDocs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select, tuple_
from sqlmodel import Session

from indexer.docs import EntryDoc
from kbsvc.entries.models import Entry, EntryLink, EntryTag, Tag
from kbsvc.tickets.models import Ticket

CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _ticket_text(t: Ticket) -> str:
    # Requester-side words only: the fix itself is already the entry's solution.
    return "\n".join(x for x in (t.title, t.symptom, t.description) if x)


def load_docs(session: Session, ids: Sequence[int] | None = None) -> list[EntryDoc]:
    """EntryDocs for `ids` (all entries when None); ids that no longer exist are left out."""
    if ids is None:
        ids = list(session.execute(select(Entry.id).order_by(Entry.id)).scalars())  # type: ignore[arg-type]
    out: list[EntryDoc] = []
    for chunk in _chunks(list(ids)):
        entries = list(session.execute(select(Entry).where(Entry.id.in_(chunk))).scalars())  # type: ignore[union-attr]
        tags: dict[int, list[str]] = {}
        for entry_id, name in session.execute(
            select(EntryTag.entry_id, Tag.name)
            .join(Tag, Tag.id == EntryTag.tag_id)  # type: ignore[arg-type]
            .where(EntryTag.entry_id.in_(chunk))  # type: ignore[attr-defined]
            .order_by(Tag.name)
        ):
            tags.setdefault(entry_id, []).append(name)
        links: dict[int, list[tuple[str, str]]] = {}
        for link in session.execute(
            select(EntryLink).where(EntryLink.entry_id.in_(chunk)).order_by(EntryLink.id)  # type: ignore[attr-defined]
        ).scalars():
            pair = (link.source, link.external_id)
            if pair not in links.setdefault(link.entry_id, []):
                links[link.entry_id].append(pair)
        keys = sorted({p for pairs in links.values() for p in pairs})
        texts: dict[tuple[str, str], str] = {}
        for i in range(0, len(keys), CHUNK):
            part = keys[i : i + CHUNK]
            stmt = select(Ticket).where(tuple_(Ticket.source, Ticket.external_id).in_(part))  # type: ignore[arg-type]
            for t in session.execute(stmt).scalars():
                texts[(t.source, t.external_id)] = _ticket_text(t)
        for e in entries:
            assert e.id is not None
            pairs = links.get(e.id, [])
            out.append(
                EntryDoc(
                    id=e.id,
                    title=e.title,
                    symptom=e.symptom,
                    cause=e.cause,
                    solution=e.solution,
                    workaround=e.workaround,
                    system=e.system,
                    module=e.module,
                    department=e.department,
                    category=e.category,
                    tags=tuple(tags.get(e.id, [])),
                    status=str(e.status.value if hasattr(e.status, "value") else e.status),
                    ticket_texts=[texts[p] for p in pairs if texts.get(p)],
                    sources=pairs,
                )
            )
    out.sort(key=lambda d: d.id)
    return out
