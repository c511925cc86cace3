"""The retriever's write side: analyse, embed and store documents in every channel.

`Retriever` (indexer/retriever.py) inherits this; searches never call into it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from embeddings.base import Embedder
from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.lexical import LexicalIndex
from indexer.packed import Packed
from indexer.vector import VectorIndex

if TYPE_CHECKING:
    from indexer.retriever import DenseChannel, RetrieverConfig

Prepared = tuple[EntryDoc, dict[str, float], np.ndarray | None, dict[str, np.ndarray]]


def passage_hash(text: str) -> str:
    """Identifies the passage a vector was made from."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class RetrieverWrites:
    """Inserts, replaces and removes documents; the state is set up by `Retriever`."""

    analyzer: Analyzer
    embedder: Embedder | None
    config: RetrieverConfig
    lexical: LexicalIndex
    vectors: VectorIndex | None
    extra: dict[str, DenseChannel]
    pending: dict[int, str]  # passages awaiting a vector (background embedding)
    embedded: dict[int, str]  # the hash of the passage each stored vector was made from

    def prepare(self, docs: Sequence[EntryDoc], *, embed: bool = True) -> list[Prepared]:
        """Analyse and embed documents (slow part; needs no lock); `embed=False` leaves the
        vectors to `set_vectors` later (the documents wait in `pending`)."""
        learn = self.config.learn_from_use
        vecs: Sequence[np.ndarray | None] = [None] * len(docs)
        if embed and self.embedder is not None and self.vectors is not None and docs:
            vecs = list(
                self.embedder.encode(
                    [d.passage(learn_from_use=learn) for d in docs], kind="passage"
                )
            )
        extra: list[dict[str, np.ndarray]] = [{} for _ in docs]
        for name, ch in self.extra.items():
            if docs:
                out = ch.embedder.encode([d.passage(learn_from_use=learn) for d in docs])
                for row, vec in zip(extra, out, strict=True):
                    row[name] = vec
        return [
            (d, self.analyzer.weighted(d.fields(learn_from_use=learn)), v, x)
            for d, v, x in zip(docs, vecs, extra, strict=True)
        ]

    def apply(self, prepared: Sequence[Prepared]) -> None:
        """Insert or replace prepared documents in every channel (fast; under the write lock)."""
        learn = self.config.learn_from_use
        for doc, tf, _vec, _x in prepared:
            self.lexical.add(doc.id, tf, doc.meta())
        for name, ch in self.extra.items():
            got = [(d.id, x[name]) for d, _, _, x in prepared if name in x]
            if got:
                ch.vectors.add([i for i, _ in got], np.stack([v for _, v in got]))
        if self.vectors is None or not prepared:
            return
        done = [(d, v) for d, _, v, _x in prepared if v is not None]
        if done:
            self.vectors.add([d.id for d, _ in done], np.stack([v for _, v in done]))
        for doc, _, vec, _x in prepared:
            text = doc.passage(learn_from_use=learn)
            if vec is None:  # its old vector (if any) serves until the new one is made
                self.pending[doc.id] = text
            else:
                self.pending.pop(doc.id, None)
                self.embedded[doc.id] = passage_hash(text)

    def fill_vectors(
        self, docs: Sequence[EntryDoc], vecs: np.ndarray | None, extra: Mapping[str, np.ndarray]
    ) -> None:
        """Load the empty vector indexes (indexer/build.py, while its workers still analyse):
        one add each; `vecs` None leaves the primary vectors pending."""
        if not docs:
            return
        ids = [d.id for d in docs]
        for name, ch in self.extra.items():
            if name in extra:
                ch.vectors.add(ids, extra[name])
        if self.vectors is None:
            return
        learn = self.config.learn_from_use
        texts = {d.id: d.passage(learn_from_use=learn) for d in docs}
        if vecs is None:  # a slow model embeds them in the background
            self.pending.update(texts)
            return
        self.vectors.add(ids, vecs)
        self.embedded.update({i: passage_hash(t) for i, t in texts.items()})

    def fill_lexical(
        self, docs: Sequence[EntryDoc], terms: Sequence[Mapping[str, float]] | Packed
    ) -> None:
        """Load the empty lexical index with analysed documents: one compaction."""
        self.lexical.fill([d.id for d in docs], terms, [d.meta() for d in docs])

    def set_vectors(self, items: Sequence[tuple[int, str]], vecs: np.ndarray) -> int:
        """Store background-made vectors whose passage is still the one awaiting a vector."""
        keep = [i for i, (doc, text) in enumerate(items) if self.pending.get(doc) == text]
        if not keep or self.vectors is None:
            return 0
        self.vectors.add([items[i][0] for i in keep], vecs[keep])
        for i in keep:
            doc, text = items[i]
            del self.pending[doc]
            self.embedded[doc] = passage_hash(text)
        return len(keep)

    def add(self, docs: Sequence[EntryDoc], *, embed: bool = True) -> None:
        """Insert or replace documents in every channel."""
        self.apply(self.prepare(docs, embed=embed))

    def remove(self, ids: Sequence[int]) -> None:
        self.lexical.remove(ids)
        for doc in ids:
            self.pending.pop(doc, None)
            self.embedded.pop(doc, None)
        if self.vectors is not None and ids:
            self.vectors.remove(list(ids))
        for ch in self.extra.values():
            if ids:
                ch.vectors.remove(list(ids))
