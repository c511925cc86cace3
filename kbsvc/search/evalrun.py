"""Run judgments against retriever configurations (used by `kbsvc eval` and bench/)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import select
from sqlmodel import Session, col

from embeddings.factory import make_embedder
from indexer.analyzer import Analyzer
from indexer.build import build_retriever
from indexer.calibration_model import Calibration
from indexer.docs import EntryDoc
from indexer.fields import Filters
from indexer.overlay import Overlay
from indexer.retriever import Retriever, RetrieverConfig
from indexer.text import ngram_text
from indexer.vector import VectorIndex
from kbsvc.config import Settings
from kbsvc.search.engine import embedding_config
from kbsvc.search.eval import Judgment, evaluate

PUBLISHED = Filters(status="published")


def offline_retriever(
    docs: Sequence[EntryDoc],
    analyzer: Analyzer,
    backend: str | None,
    config: RetrieverConfig,
    settings: Settings,
) -> Retriever:
    """A retriever over in-memory docs (bench/): the engine's builder, `backend` for embedder."""
    emb = None
    if backend:
        emb = make_embedder(
            embedding_config(settings.embedding), preprocess=ngram_text, backend=backend
        )
    return build_retriever(docs, analyzer, emb, config, ann_threshold=settings.search.ann_threshold)


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
    from kbsvc.entries.models import Entry, EntryLink
    from kbsvc.search.source import ticket_text
    from kbsvc.tickets.models import Ticket

    stmt = (
        select(col(EntryLink.entry_id), Ticket)
        .join(
            Ticket,
            (col(Ticket.source) == col(EntryLink.source))
            & (col(Ticket.external_id) == col(EntryLink.external_id)),
        )
        .join(Entry, col(Entry.id) == col(EntryLink.entry_id))
        .where(col(Entry.status) == "published")
        .order_by(col(EntryLink.id))
    )
    out, held = [], {}
    for entry_id, ticket in session.execute(stmt):
        query = "\n".join(x for x in (ticket.title, ticket.symptom) if x)
        if query and query not in held:
            out.append(Judgment(query, [str(entry_id)], "from_links"))
            held[query] = (entry_id, ticket_text(ticket))
    return out, held


def evaluate_loo(
    r: Retriever,
    docs: Sequence[EntryDoc],
    judgments: Sequence[Judgment],
    held: dict[str, tuple[int, str]],
    resolve: Callable[[str], set[str]],
) -> dict[str, Any]:
    """Evaluate, re-indexing each query's entry without that query's own ticket text.

    A slow model (e5) is not re-run per query (seconds each): its channel sees the entry
    embedded once from the entry's own text, without any linked ticket (an overlay).
    """
    by_id = {d.id: d for d in docs}
    base = rank_fn(r)
    slow = r.embedder is not None and r.embedder.slow
    lay: Overlay | None = None
    own: dict[int, np.ndarray] = {}
    if slow and r.vectors is not None and r.embedder is not None:
        asked = sorted({held[j.query][0] for j in judgments if j.query in held} & set(by_id))
        own_texts = [dataclasses.replace(by_id[i], ticket_texts=[]).passage() for i in asked]
        own = dict(zip(asked, r.embedder.encode(own_texts, kind="passage"), strict=True))
        lay, shared = Overlay(r.vectors), r.vectors
        r.vectors = cast(VectorIndex, lay)

    def rank(q: str) -> list[str]:
        if q not in held or held[q][0] not in by_id:
            return base(q)
        entry_id, text = held[q]
        doc = by_id[entry_id]
        trimmed = list(doc.ticket_texts)
        if text in trimmed:
            trimmed.remove(text)
        r.add([dataclasses.replace(doc, ticket_texts=trimmed)], embed=not slow)
        if lay is not None:
            lay.replace(entry_id, own[entry_id])
        try:
            return base(q)
        finally:
            r.add([doc], embed=not slow)
            if lay is not None:
                lay.clear()

    try:
        return evaluate(judgments, rank, resolve)
    finally:
        if lay is not None:
            r.vectors = shared
            for doc in docs:  # the trimmed re-adds queued them; their vectors never changed
                r.pending.pop(doc.id, None)


def confidence_on(
    r: Retriever,
    cal: Calibration,
    judgments: Sequence[Judgment],
    resolve: Callable[[str], set[str]],
    k: int = 5,
) -> dict[str, float | int]:
    """How a calibration bands these judgments' top hits: right ones confident, no-answer high."""
    right, none_ = [], []
    for j in judgments:
        hits = r.search(j.query, k, PUBLISHED).hits
        band = cal.rate(r, j.query, hits)[0][1] if hits else "low"
        if not j.relevant:
            none_.append(band)
        elif hits and str(hits[0].id) in set().union(*(resolve(x) for x in j.relevant)):
            right.append(band)

    def share(bands: Sequence[str], ok: set[str]) -> float:
        return round(sum(b in ok for b in bands) / len(bands), 3) if bands else 0.0

    return {
        "right_top_confident": share(right, {"high", "medium"}),
        "no_answer_high": share(none_, {"high"}),
        "no_answer_confident": share(none_, {"high", "medium"}),
        "right_top": len(right),
        "no_answer": len(none_),
    }
