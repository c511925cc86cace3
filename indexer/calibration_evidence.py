"""Evidence for the confidence model: linked tickets asked leave-one-out, and no-answers."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import cast

import numpy as np

from embeddings.base import Embedder
from indexer.confidence_features import FEATURES, hit_features
from indexer.docs import EntryDoc
from indexer.fields import Filters
from indexer.neardup import near_duplicates
from indexer.overlay import Overlay
from indexer.retriever import DenseChannel, Retriever
from indexer.vector import VectorIndex

MAX_QUERIES = 400  # evidence queries per fit (the fit runs at reindex, inside its budget)
K = 5
PUBLISHED = Filters(status="published")


@dataclass(frozen=True)
class Probe:
    """One evidence query: its text and the entry that answers it (None: nothing does)."""

    query: str
    entry_id: int | None
    own_text: str = ""  # the ticket's own text, removed from the entry while it is asked
    hide: bool = False  # ask with the entry hidden: a near-miss no-answer query


@dataclass
class Evidence:
    x: np.ndarray  # (n hits, features)
    y: np.ndarray  # 1 = the hit answers its query
    group: np.ndarray  # query index of each hit
    answerable: list[bool] = field(default_factory=list)  # per query


def probes_from_links(
    docs: Sequence[EntryDoc], unrelated: Sequence[str] = (), limit: int = MAX_QUERIES
) -> list[Probe]:
    """Linked tickets asked with their entry (leave-one-out) and with it hidden, plus
    unrelated text; at most `limit` linked-ticket queries, spread evenly over the KB.

    The ticket an entry was written from (same title) is asked only with its entry hidden:
    asked for its entry it would be the entry's own words, evidence of nothing.
    """
    pairs = [(d, t) for d in docs for t in d.ticket_texts]
    step = max(1, -(-len(pairs) // max(1, limit // 2)))
    out = []
    for doc, text in pairs[::step]:
        query = "\n".join(text.splitlines()[:2])
        if text.splitlines()[0].strip() != doc.title.strip():
            out.append(Probe(query, doc.id, text))
        out.append(Probe(query, doc.id, hide=True))
    return out + [Probe(u, None) for u in unrelated]


def unrelated_queries() -> list[str]:
    """Shipped text that no hospital-IT entry answers (cafeteria, parking, HR, weather …)."""
    text = (resources.files("indexer") / "data" / "unrelated_queries.txt").read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _sharing_lexical(r: Retriever, channels: dict[str, tuple[Embedder, VectorIndex]]) -> Retriever:
    """A retriever over these dense channels that shares `r`'s lexical index (the caller's
    own copy, edited per probe)."""
    primary = channels.get(r.name)
    extra = {n: DenseChannel(e, v) for n, (e, v) in channels.items() if n != r.name}
    out = Retriever(
        r.analyzer,
        primary[0] if primary else None,
        r.config,
        primary[1] if primary else None,
        name=r.name,
        extra=extra,
    )
    out.lexical = r.lexical
    return out


def _overlaid(r: Retriever) -> tuple[Retriever, dict[str, tuple[Embedder, Overlay]]]:
    """A lexical copy of `r` whose dense channels are overlays of `r`'s (shared, unchanged)."""
    lays = {name: (emb, Overlay(vecs)) for name, (emb, vecs) in r.dense_channels().items()}
    views = {n: (e, cast(VectorIndex, o)) for n, (e, o) in lays.items()}
    return _sharing_lexical(r, views), lays


def _unseen(r: Retriever, docs: Sequence[EntryDoc], probes: Sequence[Probe]) -> Retriever:
    """`r` with each corpus-fitted dense channel (LSA) refitted on the KB without the text of
    the tickets asked as probes: a staff query is text the model never saw, and a ticket it
    was fitted on lands beside its entry by construction (the evidence would overrate it)."""
    channels = r.dense_channels()
    if not any(emb.needs_fit for emb, _ in channels.values()):
        return r
    asked = {p.query for p in probes}
    learn = r.config.learn_from_use
    blind = [
        dataclasses.replace(
            d,
            ticket_texts=[t for t in d.ticket_texts if "\n".join(t.splitlines()[:2]) not in asked],
        )
        for d in docs
    ]
    passages = [d.passage(learn_from_use=learn) for d in blind]
    out: dict[str, tuple[Embedder, VectorIndex]] = {}
    for name, (emb, vecs) in channels.items():
        if emb.needs_fit and len(passages) >= 2:
            emb = copy.copy(emb)  # fitting installs new arrays: the served model is untouched
            fitted = emb.fit_encode(passages)  # one n-gram pass, not one to fit and one to embed
            vecs = VectorIndex(emb.dim, emb.model_id, ann_threshold=len(docs) + 1)
            vecs.add([d.id for d in docs], fitted)
        out[name] = (emb, vecs)
    return _sharing_lexical(r, out)


def _own_vectors(
    lays: dict[str, tuple[Embedder, Overlay]], docs: Sequence[EntryDoc]
) -> dict[str, dict[int, np.ndarray]]:
    """Per dense channel, each probed entry embedded from its own text (no linked tickets)."""
    out: dict[str, dict[int, np.ndarray]] = {}
    texts = [dataclasses.replace(d, ticket_texts=[]).passage() for d in docs]
    for name, (emb, _lay) in lays.items():
        if texts:
            vecs = emb.encode(texts, kind="passage")
            out[name] = {d.id: vecs[i] for i, d in enumerate(docs)}
    return out


def collect(r: Retriever, docs: Sequence[EntryDoc], probes: Sequence[Probe]) -> Evidence:
    """Run every probe on a copy of `r` (its lexical index must be the copy's own); hits are
    labelled against the probe's entry.

    A ticket linked to an entry is a query whose right answer is known. Asked with every
    linked ticket's words removed from the entry, in the lexical and the dense channels alike
    (leave-one-out), it gives a positive (the entry) and negatives (the other hits); asked
    with the entry and its near duplicates (`indexer.neardup`) out of every channel it is a
    no-answer query, a near miss by construction; unrelated text gives more no-answers.
    """
    r, lays = _overlaid(_unseen(r, docs, probes)) if r.dense_channels() else (r, {})
    by_id = {d.id: d for d in docs}
    probed = {p.entry_id for p in probes if not p.hide and p.entry_id in by_id}
    own = _own_vectors(lays, [by_id[i] for i in sorted(i for i in probed if i is not None)])
    xs: list[np.ndarray] = []
    ys: list[int] = []
    gs: list[int] = []
    answerable: list[bool] = []
    learn = r.config.learn_from_use
    whole: dict[int, dict[str, float]] = {}  # an entry's own terms, put back after each probe

    def terms(d: EntryDoc) -> dict[str, float]:
        # Analysis is a pure function of the text: once per entry, not once per put-back
        # (a hidden entry's near duplicates come back with it, probe after probe).
        if d.id not in whole:
            whole[d.id] = r.analyzer.weighted(d.fields(learn_from_use=learn))
        return whole[d.id]

    # An entry's near duplicates answer its tickets too: they leave with it when it is
    # hidden (else a near miss would be a right answer), and are no wrong answer beside it.
    ids = {p.entry_id for p in probes if p.entry_id in by_id}
    copies = {i: near_duplicates(r.lexical, i) & by_id.keys() for i in ids if i is not None}
    for p in probes:
        doc = by_id.get(p.entry_id) if p.entry_id is not None else None
        group = copies.get(doc.id, set()) if doc is not None else set()
        trimmed = doc is not None and not p.hide and p.own_text in doc.ticket_texts
        if trimmed and doc is not None:
            # Every linked ticket's words go, not just the probe's: a family's tickets are
            # near-paraphrases, and staff queries are worded unlike any of them. The dense
            # channels see the entry embedded from its own text too (an overlay).
            one = dataclasses.replace(doc, ticket_texts=[])
            r.lexical.add(doc.id, r.analyzer.weighted(one.fields(learn_from_use=learn)), one.meta())
            for name, (_emb, lay) in lays.items():
                lay.replace(doc.id, own[name][doc.id])
        hidden = p.hide and doc is not None
        gone = [doc.id, *sorted(group)] if hidden and doc is not None else []
        if gone:
            # Out of every channel, not just out of the list: the rest rank as they would
            # if the KB had never had it (rank 1 in a channel stays evidence of an answer).
            r.lexical.remove(gone)
            for _emb, lay in lays.values():
                for i in gone:
                    lay.hide(i)
        try:
            hits = r.search(p.query, K + 1, PUBLISHED).hits
            if p.hide or doc is None:
                hits = [h for h in hits if h.id != p.entry_id]
            hits = hits[:K]
            # Features too are read while the entry is trimmed: its coverage of the query
            # must not count the words just taken out.
            x = hit_features(r, p.query, hits) if hits else None
        finally:
            back = [doc] if (trimmed or hidden) and doc is not None else []
            for d in back + [by_id[i] for i in gone[1:]]:
                r.lexical.add(d.id, terms(d), d.meta())
            for _emb, lay in lays.values():
                lay.clear()
        if x is None:
            continue
        answer = None if p.hide else p.entry_id
        keep = [i for i, h in enumerate(hits) if h.id not in group]  # a copy is no wrong answer
        xs.append(x[keep])
        ys += [1 if hits[i].id == answer else 0 for i in keep]
        gs += [len(answerable)] * len(keep)
        answerable.append(answer is not None)
    x = np.vstack(xs) if xs else np.zeros((0, len(FEATURES)))
    return Evidence(x, np.asarray(ys), np.asarray(gs), answerable)
