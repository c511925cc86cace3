"""The in-memory retrieval core: lexical + dense channels, fused, with evidence.

One dense channel is primary (it may be slow and embed in the background: `pending`); any
others (`extra`, e.g. LSA beside e5) are fast and embedded inline. Channels are named by
backend ("lexical", "lsa", "e5"), and every hit says which of them ranked it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from embeddings.base import Embedder
from indexer.analyzer import Analyzer, readable_terms
from indexer.fields import Filters
from indexer.fusion import ChannelHit, Fused, Method, fuse
from indexer.lexical import LexicalIndex
from indexer.retriever_writes import RetrieverWrites
from indexer.vector import VectorIndex

Progress = Callable[[int, int], None]
QUERY_CACHE = 1024  # query vectors kept: a settled query re-asked costs no model call
MIN_FIT_DOCS = 10  # below this a corpus-fitted embedder has nothing to learn from


@dataclass(frozen=True)
class RetrieverConfig:
    """How channels are combined (see README, Retrieval); the application sets each value."""

    lexical_weight: float
    dense_weight: float
    method: Method
    learn_from_use: bool
    candidates: int = 100  # per-channel candidates before fusion (not a setting)
    # Per dense channel weight by name, overriding dense_weight (0 switches one off).
    channel_weights: tuple[tuple[str, float], ...] = ()

    def weight_of(self, channel: str) -> float:
        """The fusion weight of a channel by name."""
        if channel == "lexical":
            return self.lexical_weight
        return dict(self.channel_weights).get(channel, self.dense_weight)


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
    channels: list[str] = field(default_factory=list)  # the channels that ranked this list


@dataclass
class DenseChannel:
    """A fast dense channel beside the primary one: its embedder and its vectors."""

    embedder: Embedder
    vectors: VectorIndex


class Retriever(RetrieverWrites):
    """Owns one lexical index and (optionally) one vector index plus the embedder feeding it."""

    def __init__(
        self,
        analyzer: Analyzer,
        embedder: Embedder | None,
        config: RetrieverConfig,
        vectors: VectorIndex | None = None,
        *,
        name: str = "dense",
        extra: dict[str, DenseChannel] | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.embedder = embedder
        self.config = config
        self.lexical = LexicalIndex()
        self.vectors = vectors
        self.name = name  # the primary dense channel's name
        self.extra: dict[str, DenseChannel] = dict(extra or {})
        # Background embedding (slow embedders): passages awaiting a vector, and the hash of
        # the passage each stored vector was made from (so a rebuild can keep it).
        self.pending: dict[int, str] = {}
        self.embedded: dict[int, str] = {}
        self._qvecs: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._qlock = threading.Lock()  # readers share the cache

    @property
    def dense(self) -> bool:
        return self.vectors is not None and self.embedder is not None

    def dense_channels(self) -> dict[str, tuple[Embedder, VectorIndex]]:
        """Every dense channel by name, the primary first."""
        out: dict[str, tuple[Embedder, VectorIndex]] = {}
        if self.embedder is not None and self.vectors is not None:
            out[self.name] = (self.embedder, self.vectors)
        out.update({n: (c.embedder, c.vectors) for n, c in self.extra.items()})
        return out

    def has_query_vector(self, query: str) -> bool:
        """Whether this query's vector is cached (the dense channel then costs nothing)."""
        return (self.name, self.analyzer.expand(query, self.knows)) in self._qvecs

    def _query_vector(self, text: str, name: str, embedder: Embedder) -> np.ndarray:
        key = (name, text)
        with self._qlock:
            cached = self._qvecs.get(key)
            if cached is not None:
                self._qvecs.move_to_end(key)
                return cached
        vec = np.asarray(embedder.encode([text], kind="query")[0], dtype=np.float32)
        with self._qlock:
            self._qvecs[key] = vec
            while len(self._qvecs) > QUERY_CACHE:
                self._qvecs.popitem(last=False)
        return vec

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
        dense: bool = True,
    ) -> Ranked:
        """Rank entries for a query; `boost` (system/department) nudges matching entries up;
        `dense=False` leaves the primary dense channel out (a slow model inside a tight latency
        budget); fast extra channels still join."""
        cfg = self.config
        query = self.analyzer.expand(query, self.knows)
        terms = self.analyzer.query_terms(query)
        n_cand = max(k, cfg.candidates)
        mask = self.lexical.mask(filters)
        scores = self.lexical.scores(terms)
        # BM25 is never negative, so ×0 zeroes what the filters drop (5x a boolean-mask store).
        np.multiply(scores, mask, out=scores)
        bound = self.lexical.max_score(terms) or 1.0
        lex = [(d, s / bound) for d, s in self.lexical.top(scores, n_cand)]
        channels: dict[str, list[tuple[int, float]]] = {"lexical": lex}
        exact: dict[str, dict[int, float]] = {"lexical": {}}
        weights = {"lexical": cfg.lexical_weight}
        total = int(np.count_nonzero(scores > 0))
        qvecs: dict[str, tuple[np.ndarray, VectorIndex]] = {}
        for name, (embedder, vectors) in self.dense_channels().items():
            weights[name] = cfg.weight_of(name) if dense or name != self.name else 0.0
            if weights[name] <= 0:
                continue
            qvec = self._query_vector(query, name, embedder)
            found = vectors.search(qvec, n_cand * 2) if np.any(qvec) else []
            near = self._near(found, mask)[:n_cand]
            channels[name], qvecs[name] = near, (qvec, vectors)
            if near:  # every one is indexed and passes the filters (`_near`)
                docs = [d for d, _ in near]
                lexical = scores[self.lexical.slots_of(docs)].astype(np.float64)
                seen = exact["lexical"]
                total += sum(
                    1
                    for d, s in zip(docs, lexical.tolist(), strict=True)
                    if s <= 0 and d not in seen
                )
                seen.update(zip(docs, (lexical / bound).tolist(), strict=True))
        # Each dense channel's score of the others' candidates (score fusion never reads a
        # miss as 0).
        listed = {d for ranked in channels.values() for d, _ in ranked}
        for name, (qvec, vectors) in qvecs.items():
            others = sorted(listed - {d for d, _ in channels[name]})
            exact[name] = vectors.score(qvec, others) if others else {}
        # Only the head is read: the k hits and the runner-up, or what boosting reorders; the
        # other few hundred candidates are scored for the order but never built.
        head = max(k * 4, 50)
        boosting = bool(boost and any(boost.values()))
        fused = fuse(
            channels,
            weights,
            method=cfg.method,
            exact=exact,
            limit=head if boosting else max(k, 1) + 1,
        )
        if boost and boosting:
            fused = self._boost(fused[:head], boost)
        hits = [Hit(f.id, f.score, f.channels) for f in fused[:k]]
        for hit, matched in zip(
            hits, self.lexical.matched_many([h.id for h in hits], terms), strict=True
        ):
            hit.matched = readable_terms(matched)
        top = fused[0].score if fused else 0.0
        margin = top - fused[1].score if len(fused) > 1 else top
        used = [c for c, w in weights.items() if w > 0]
        return Ranked(hits, total, top, margin, used)

    def _near(self, found: list[tuple[int, float]], mask: np.ndarray) -> list[tuple[int, float]]:
        """Dense hits that are indexed lexically and pass the filters, in order."""
        if not found:
            return []
        slots = self.lexical.slots_of([d for d, _ in found])
        keep = slots >= 0
        keep[keep] = mask[slots[keep]]
        return [(d, float(s)) for (d, s), ok in zip(found, keep.tolist(), strict=True) if ok]

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
