"""The database as the search engine's change source: the entry change sequence and EntryDocs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from indexer.docs import EntryDoc
from indexer.source import Change
from kbsvc.attachments import service as attachments
from kbsvc.entries import changes
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, EntryTag, Tag
from kbsvc.tickets.models import Ticket

CHUNK = 500


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def ticket_text(t: Ticket) -> str:
    """What a linked ticket adds to its entry's index text."""
    return _joined(t.title, t.symptom, t.description)


def _joined(title: str, symptom: str, description: str) -> str:
    # Requester-side words only: the fix itself is already the entry's solution.
    return "\n".join(x for x in (title, symptom, description) if x)


def _tags(session: Session, chunk: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    stmt = (
        select(col(EntryTag.entry_id), col(Tag.name))
        .join(Tag, col(Tag.id) == col(EntryTag.tag_id))
        .where(col(EntryTag.entry_id).in_(chunk))
        .order_by(col(Tag.name))
    )
    for entry_id, name in session.execute(stmt):
        tags.setdefault(entry_id, []).append(name)
    return tags


def _links(session: Session, chunk: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    links: dict[int, list[tuple[str, str]]] = {}
    stmt = (
        select(col(EntryLink.entry_id), col(EntryLink.source), col(EntryLink.external_id))
        .where(col(EntryLink.entry_id).in_(chunk))
        .order_by(col(EntryLink.id))
    )
    for entry_id, source, external_id in session.execute(stmt):
        pair = (source, external_id)
        if pair not in links.setdefault(entry_id, []):
            links[entry_id].append(pair)
    return links


def _ticket_texts(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    texts: dict[tuple[str, str], str] = {}
    cols = (Ticket.source, Ticket.external_id, Ticket.title, Ticket.symptom, Ticket.description)
    for i in range(0, len(keys), CHUNK):
        part = keys[i : i + CHUNK]
        # Columns, not Ticket objects: the index needs three texts, not the raw row's JSON.
        stmt = select(*(col(c) for c in cols)).where(
            tuple_(col(Ticket.source), col(Ticket.external_id)).in_(part)
        )
        for source, external_id, title, symptom, description in session.execute(stmt):
            texts[(source, external_id)] = _joined(title, symptom, description)
    return texts


_ENTRY_COLUMNS = (
    Entry.id,
    Entry.title,
    Entry.symptom,
    Entry.cause,
    Entry.solution,
    Entry.workaround,
    Entry.system,
    Entry.module,
    Entry.department,
    Entry.category,
    Entry.status,
)


def load_docs(session: Session, ids: Sequence[int] | None = None) -> list[EntryDoc]:
    """EntryDocs for `ids` (all entries when None); ids that no longer exist are left out."""
    if ids is None:
        ids = list(session.execute(select(col(Entry.id)).order_by(col(Entry.id))).scalars())
    out: list[EntryDoc] = []
    for chunk in _chunks(list(ids)):
        stmt = select(*(col(c) for c in _ENTRY_COLUMNS)).where(col(Entry.id).in_(chunk))
        entries = list(session.execute(stmt))
        tags = _tags(session, chunk)
        links = _links(session, chunk)
        texts = _ticket_texts(session, sorted({p for pairs in links.values() for p in pairs}))
        ocr = attachments.ocr_texts(session, chunk)
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
                    status=EntryStatus(e.status).value,
                    ticket_texts=[texts[p] for p in pairs if texts.get(p)],
                    sources=pairs,
                    ocr_texts=ocr.get(e.id, []),
                )
            )
    out.sort(key=lambda d: d.id)
    return out


class DbChangeSource:
    """`indexer.source.ChangeSource` over the entry outbox; one short session per call."""

    def __init__(self, db_engine: Engine) -> None:
        self.db_engine = db_engine

    def latest_seq(self) -> int:
        with Session(self.db_engine) as session:
            return changes.latest_seq(session)

    def changes_since(self, seq: int) -> list[Change]:
        with Session(self.db_engine) as session:
            rows = changes.changes_since(session, seq)
            return [
                Change(r.seq, r.entry_id, "delete" if r.op == "delete" else "upsert") for r in rows
            ]

    def load_docs(self, ids: Sequence[int] | None = None) -> list[EntryDoc]:
        with Session(self.db_engine) as session:
            return load_docs(session, ids)
