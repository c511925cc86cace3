"""Run judgments against retriever configurations (used by `kbsvc eval` and bench/)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.lexical import Filters
from indexer.retriever import Retriever, RetrieverConfig
from kbsvc.search.eval import Judgment, evaluate

PUBLISHED = Filters(status="published")


def build_retriever(
    docs: Sequence[EntryDoc], analyzer: Analyzer, embedder: Any, config: RetrieverConfig
) -> Retriever:
    """An in-memory retriever over `docs` (fits a corpus-fitted embedder first)."""
    vectors = None
    if embedder is not None and config.dense_weight > 0:
        from indexer.vector import VectorIndex

        if embedder.needs_fit:
            embedder.fit([d.passage(learn_from_use=config.learn_from_use) for d in docs])
        vectors = VectorIndex(embedder.dim, embedder.model_id)
    r = Retriever(analyzer, embedder if vectors is not None else None, config, vectors)
    for i in range(0, len(docs), 256):
        r.add(docs[i : i + 256])
    r.lexical.compact()
    return r


def rank_fn(r: Retriever, k: int = 10) -> Callable[[str], list[str]]:
    return lambda q: [str(h.id) for h in r.search(q, k, PUBLISHED).hits]


def resolver(docs: Sequence[EntryDoc]) -> Callable[[str], set[str]]:
    """Judged id → entry ids: an entry id itself, or the entries a ticket id is linked to."""
    by_ticket: dict[str, set[str]] = {}
    for d in docs:
        for _source, ext in d.sources:
            by_ticket.setdefault(ext, set()).add(str(d.id))
    ids = {str(d.id) for d in docs}
    return lambda x: by_ticket.get(x) or ({x} if x in ids else set())


def judgments_from_links(session: Session) -> tuple[list[Judgment], dict[str, tuple[int, str]]]:
    """One judgment per linked ticket (its own words → its entry) plus what to leave out.

    Returns judgments and, per query text, (entry id, ticket text) so the caller can drop the
    ticket's own text from its entry while it is the query (leave-one-out).
    """
    from indexer.dbsource import _ticket_text
    from kbsvc.entries.models import Entry, EntryLink
    from kbsvc.tickets.models import Ticket

    stmt = (
        select(EntryLink.entry_id, Ticket)
        .join(
            Ticket,
            (Ticket.source == EntryLink.source)  # type: ignore[arg-type]
            & (Ticket.external_id == EntryLink.external_id),
        )
        .join(Entry, Entry.id == EntryLink.entry_id)  # type: ignore[arg-type]
        .where(Entry.status == "published")  # type: ignore[arg-type]
        .order_by(EntryLink.id)
    )
    out, held = [], {}
    for entry_id, ticket in session.execute(stmt):
        query = "\n".join(x for x in (ticket.title, ticket.symptom) if x)
        if query and query not in held:
            out.append(Judgment(query, [str(entry_id)], "from_links"))
            held[query] = (entry_id, _ticket_text(ticket))
    return out, held


def evaluate_loo(
    r: Retriever,
    docs: Sequence[EntryDoc],
    judgments: Sequence[Judgment],
    held: dict[str, tuple[int, str]],
    resolve: Callable[[str], set[str]],
) -> dict[str, Any]:
    """Evaluate, re-indexing each query's entry without that query's own ticket text."""
    by_id = {d.id: d for d in docs}
    base = rank_fn(r)

    def rank(q: str) -> list[str]:
        if q not in held or held[q][0] not in by_id:
            return base(q)
        entry_id, text = held[q]
        doc = by_id[entry_id]
        trimmed = list(doc.ticket_texts)
        if text in trimmed:
            trimmed.remove(text)
        r.add([dataclasses.replace(doc, ticket_texts=trimmed)])
        try:
            return base(q)
        finally:
            r.add([doc])

    return evaluate(judgments, rank, resolve)
