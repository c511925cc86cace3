"""The in-memory retrieval core: lexical + optional dense channel, fused, with evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.analyzer import Analyzer, readable_terms
from indexer.docs import EntryDoc
from indexer.fusion import ChannelHit, Method, fuse
from indexer.lexical import Filters, LexicalIndex


@dataclass(frozen=True)
class RetrieverConfig:
    """How channels are combined (see README, Retrieval and evaluation)."""

    lexical_weight: float = 1.0
    dense_weight: float = 0.5
    method: Method = "score"
    learn_from_use: bool = True
    candidates: int = 100


@dataclass
class Hit:
    """A ranked entry id with the evidence behind its score."""

    id: int
    score: float
    channels: dict[str, ChannelHit] = field(default_factory=dict)
    matched: list[str] = field(default_factory=list)


@dataclass
class Ranked:
    hits: list[Hit]
    total: int
    top_score: float = 0.0
    margin: float = 0.0  # top score minus the runner-up's (0 when fewer than two)


class Retriever:
    """Owns one lexical index and (optionally) one vector index plus the embedder feeding it."""

    def __init__(
        self,
        analyzer: Analyzer,
        embedder: Any = None,
        config: RetrieverConfig | None = None,
        vectors: Any = None,
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.config = config or RetrieverConfig()
        self.lexical = LexicalIndex()
        self.vectors = vectors

    @property
    def dense(self) -> bool:
        return self.vectors is not None and self.embedder is not None

    def prepare(self, docs: Sequence[EntryDoc]) -> list[tuple[EntryDoc, Any, Any]]:
        """Analyse and embed documents (slow part; needs no lock)."""
        learn = self.config.learn_from_use
        vecs: Any = [None] * len(docs)
        if self.dense and docs:
            vecs = self.embedder.encode(
                [d.passage(learn_from_use=learn) for d in docs], kind="passage"
            )
        return [
            (d, self.analyzer.weighted(d.fields(learn_from_use=learn)), v)
            for d, v in zip(docs, vecs, strict=True)
        ]

    def apply(self, prepared: list[tuple[EntryDoc, Any, Any]]) -> None:
        """Insert or replace prepared documents in every channel (fast; under the write lock)."""
        for doc, tf, _vec in prepared:
            self.lexical.add(doc.id, tf, doc.meta())
        if self.dense and prepared:
            self.vectors.add([d.id for d, _, _ in prepared], np.stack([v for _, _, v in prepared]))

    def add(self, docs: Sequence[EntryDoc]) -> None:
        """Insert or replace documents in every channel."""
        self.apply(self.prepare(docs))

    def remove(self, ids: Sequence[int]) -> None:
        self.lexical.remove(ids)
        if self.dense and ids:
            self.vectors.remove(list(ids))

    def maintain(self) -> None:
        """Fold accumulated writes when they start to cost query time."""
        if self.lexical.needs_compaction():
            self.lexical.compact()

    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        *,
        boost: dict[str, str] | None = None,
    ) -> Ranked:
        """Rank entries for a query; `boost` (system/department) nudges matching entries up."""
        cfg = self.config
        query = self.analyzer.expand(query, self.knows)
        terms = self.analyzer.query_terms(query)
        n_cand = max(k, cfg.candidates)
        mask = self.lexical.mask(filters)
        scores = self.lexical.scores(terms)
        scores[~mask] = 0.0
        bound = self.lexical.max_score(terms) or 1.0
        lex = [(d, s / bound) for d, s in self.lexical.top(scores, n_cand)]
        channels: dict[str, list[tuple[int, float]]] = {"lexical": lex}
        exact: dict[str, dict[int, float]] = {"lexical": {}, "dense": {}}
        weights = {"lexical": cfg.lexical_weight, "dense": cfg.dense_weight if self.dense else 0}
        total = int(np.count_nonzero(scores))
        if weights["dense"] > 0:
            qvec = self.embedder.encode([query], kind="query")[0]
            dense = []
            if np.any(qvec):
                for doc, sim in self.vectors.search(qvec, n_cand * 2):
                    slot = self.lexical.slot_of(doc)
                    if slot is not None and mask[slot]:
                        dense.append((doc, float(sim)))
            dense = dense[:n_cand]
            channels["dense"] = dense
            for doc, _ in dense:
                slot = self.lexical.slot_of(doc)
                if slot is not None and scores[slot] <= 0:
                    total += 1
                exact["lexical"][doc] = float(scores[slot]) / bound if slot is not None else 0.0
            exact["dense"] = self._dense_scores(qvec, [d for d, _ in lex])
        fused = fuse(channels, weights, method=cfg.method, exact=exact)
        if boost and any(boost.values()):
            fused = self._boost(fused[: max(k * 4, 50)], boost) + fused[max(k * 4, 50) :]
        hits = [Hit(f.id, f.score, f.channels) for f in fused[:k]]
        for hit in hits:
            hit.matched = readable_terms(self.lexical.matched(hit.id, terms))
        top = fused[0].score if fused else 0.0
        margin = top - fused[1].score if len(fused) > 1 else top
        return Ranked(hits, total, top, margin)

    def knows(self, word: str) -> bool:
        """Whether any index term of `word` occurs in a live entry (guards pinyin guesses)."""
        return any(self.lexical.has_term(t) for t in self.analyzer.tokenizer.tokens(word))

    def _dense_scores(self, qvec: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Exact cosine of lexical candidates the dense channel did not return."""
        return self.vectors.score(qvec, ids) if ids else {}

    def _boost(self, fused: list[Any], boost: dict[str, str]) -> list[Any]:
        # A ticket filed against the same system is more likely the same fault; a nudge, not a
        # filter, because tickets are often filed under the wrong system.
        for f in fused:
            meta = self.lexical.meta(f.id)
            if meta is None:
                continue
            if boost.get("system") and meta.system == boost["system"]:
                f.score = min(1.0, f.score * 1.05)
            if boost.get("department") and meta.department == boost["department"]:
                f.score = min(1.0, f.score * 1.02)
        fused.sort(key=lambda f: (-f.score, f.id))
        return fused
