"""The in-memory retrieval core: lexical + optional dense channel, fused, with evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from embeddings.base import Embedder
from indexer.analyzer import Analyzer, readable_terms
from indexer.docs import EntryDoc
from indexer.fusion import ChannelHit, Fused, Method, fuse
from indexer.lexical import Filters, LexicalIndex
from indexer.vector import VectorIndex

Progress = Callable[[int, int], None]
MIN_FIT_DOCS = 10  # below this a corpus-fitted embedder has nothing to learn from
BATCH = 256


@dataclass(frozen=True)
class RetrieverConfig:
    """How channels are combined (see README, Retrieval); the application sets each value."""

    lexical_weight: float
    dense_weight: float
    method: Method
    learn_from_use: bool
    candidates: int = 100  # per-channel candidates before fusion (not a setting)


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


Prepared = tuple[EntryDoc, dict[str, float], np.ndarray | None]


class Retriever:
    """Owns one lexical index and (optionally) one vector index plus the embedder feeding it."""

    def __init__(
        self,
        analyzer: Analyzer,
        embedder: Embedder | None,
        config: RetrieverConfig,
        vectors: VectorIndex | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.config = config
        self.lexical = LexicalIndex()
        self.vectors = vectors

    @property
    def dense(self) -> bool:
        return self.vectors is not None and self.embedder is not None

    def prepare(self, docs: Sequence[EntryDoc]) -> list[Prepared]:
        """Analyse and embed documents (slow part; needs no lock)."""
        learn = self.config.learn_from_use
        vecs: Sequence[np.ndarray | None] = [None] * len(docs)
        if self.embedder is not None and self.vectors is not None and docs:
            vecs = list(
                self.embedder.encode(
                    [d.passage(learn_from_use=learn) for d in docs], kind="passage"
                )
            )
        return [
            (d, self.analyzer.weighted(d.fields(learn_from_use=learn)), v)
            for d, v in zip(docs, vecs, strict=True)
        ]

    def apply(self, prepared: Sequence[Prepared]) -> None:
        """Insert or replace prepared documents in every channel (fast; under the write lock)."""
        for doc, tf, _vec in prepared:
            self.lexical.add(doc.id, tf, doc.meta())
        if self.vectors is not None and prepared:
            rows = [v for _, _, v in prepared if v is not None]
            self.vectors.add([d.id for d, _, _ in prepared], np.stack(rows))

    def add(self, docs: Sequence[EntryDoc]) -> None:
        """Insert or replace documents in every channel."""
        self.apply(self.prepare(docs))

    def remove(self, ids: Sequence[int]) -> None:
        self.lexical.remove(ids)
        if self.vectors is not None and ids:
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
        weights = {"lexical": cfg.lexical_weight, "dense": cfg.dense_weight if self.dense else 0.0}
        total = int(np.count_nonzero(scores))
        if weights["dense"] > 0 and self.embedder is not None and self.vectors is not None:
            qvec = self.embedder.encode([query], kind="query")[0]
            dense: list[tuple[int, float]] = []
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
            lex_ids = [d for d, _ in lex]
            exact["dense"] = self.vectors.score(qvec, lex_ids) if lex_ids else {}
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

    def _boost(self, fused: list[Fused], boost: dict[str, str]) -> list[Fused]:
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


def build_retriever(
    docs: Sequence[EntryDoc],
    analyzer: Analyzer,
    embedder: Embedder | None,
    config: RetrieverConfig,
    *,
    ann_threshold: int,
    progress: Progress | None = None,
) -> Retriever:
    """A retriever over `docs` in every channel: the one way the engine, eval and bench build.

    A corpus-fitted embedder is fitted on `docs` first, or left out while the corpus is too
    small to learn from; a backend without dimensions ("none") gives a lexical-only retriever.
    """
    if embedder is not None and embedder.needs_fit:
        if len(docs) >= MIN_FIT_DOCS:
            embedder.fit([d.passage(learn_from_use=config.learn_from_use) for d in docs])
        else:
            embedder = None
    vectors = None
    if embedder is not None and embedder.dim > 0:
        vectors = VectorIndex(embedder.dim, embedder.model_id, ann_threshold=ann_threshold)
    r = Retriever(analyzer, embedder if vectors is not None else None, config, vectors)
    for start in range(0, len(docs), BATCH):
        r.add(docs[start : start + BATCH])
        if progress:
            progress(min(start + BATCH, len(docs)), len(docs))
    r.lexical.compact()
    return r
