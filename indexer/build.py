"""A retriever over a whole corpus at once: the one way the engine, eval and bench build.

Analysing every entry (jieba words and bigrams) is most of a rebuild's CPU; with `workers`
it runs in that many processes (indexer/pool.py) while this one fits the corpus-fitted
channel. LSA's fit n-grams the corpus, and the same counts give the entries' vectors (no
second pass to embed them). Each vector index is filled with one call, so past its threshold
HNSW is built once rather than grown 256 rows at a time after a flat-to-HNSW switch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from embeddings.base import Embedder
from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.pool import fork_pool
from indexer.retriever import MIN_FIT_DOCS, DenseChannel, Progress, Retriever, RetrieverConfig
from indexer.vector import VectorIndex

CHUNK = 500  # entries per unit of work handed to an analysis worker
Terms = dict[str, float]
_ANALYZER: Analyzer | None = None  # each analysis worker's, set when it starts


def _start(analyzer: Analyzer) -> None:
    global _ANALYZER
    _ANALYZER = analyzer


def _weigh(chunk: list[dict[str, str]]) -> list[Terms]:
    assert _ANALYZER is not None, "analysis worker started without its analyzer"
    return [_ANALYZER.weighted(f) for f in chunk]


@contextmanager
def _analysis(
    analyzer: Analyzer, fields: Sequence[dict[str, str]], workers: int
) -> Iterator[Iterator[list[Terms]]]:
    """Each chunk's term weights, in order: started in worker processes on entry (so the
    caller can work meanwhile), or computed here as they are read."""
    chunks = [list(fields[i : i + CHUNK]) for i in range(0, len(fields), CHUNK)]
    if workers <= 1 or len(chunks) < 2:
        yield ([analyzer.weighted(f) for f in chunk] for chunk in chunks)
        return
    analyzer.tokenizer.initialize()  # loaded once, here: forked workers inherit it
    pool = fork_pool(min(workers, len(chunks)), _start, (analyzer,))
    try:
        running = [pool.submit(_weigh, chunk) for chunk in chunks]
        yield (future.result() for future in running)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fitted(
    embedder: Embedder | None, passages: Sequence[str], embed: bool
) -> tuple[Embedder | None, np.ndarray | None]:
    """The embedder, fitted on the passages when corpus-fitted (None while the corpus is too
    small to learn from), and the passages' vectors (None when `embed` is off)."""
    if embedder is None or embedder.dim <= 0:
        return None, None
    if embedder.needs_fit:
        if len(passages) < MIN_FIT_DOCS:
            return None, None
        if embed:
            return embedder, embedder.fit_encode(passages)
        embedder.fit(passages)
        return embedder, None
    return embedder, embedder.encode(passages, kind="passage") if embed else None


def build_retriever(
    docs: Sequence[EntryDoc],
    analyzer: Analyzer,
    embedder: Embedder | None,
    config: RetrieverConfig,
    *,
    ann_threshold: int,
    progress: Progress | None = None,
    embed: bool = True,
    name: str = "dense",
    extra: Mapping[str, Embedder] | None = None,
    workers: int = 1,
) -> Retriever:
    """A retriever over `docs` in every channel.

    A corpus-fitted embedder is fitted on `docs` first, or left out while the corpus is too
    small to learn from; a backend without dimensions ("none") gives a lexical-only retriever.
    `embedder` is the primary dense channel (`name`), `extra` the fast ones beside it;
    `embed=False` leaves the primary channel's vectors pending (a slow model's background
    work). `workers` > 1 analyses in that many forked processes (indexer/pool.py).
    """
    learn = config.learn_from_use
    fields = [d.fields(learn_from_use=learn) for d in docs]
    with _analysis(analyzer, fields, workers) as chunks:
        passages = [d.passage(learn_from_use=learn) for d in docs]
        embedder, vecs = _fitted(embedder, passages, embed)
        others: dict[str, DenseChannel] = {}
        other_vecs: dict[str, np.ndarray] = {}
        for other, emb in (extra or {}).items():
            fitted, got = _fitted(emb, passages, True)
            if fitted is not None and got is not None:
                index = VectorIndex(fitted.dim, fitted.model_id, ann_threshold=ann_threshold)
                others[other], other_vecs[other] = DenseChannel(fitted, index), got
        terms: list[Terms] = []
        for chunk in chunks:
            terms.extend(chunk)
            if progress:
                progress(len(terms), len(docs))
    vectors = None
    if embedder is not None:
        vectors = VectorIndex(embedder.dim, embedder.model_id, ann_threshold=ann_threshold)
    r = Retriever(analyzer, embedder, config, vectors, name=name, extra=others)
    r.fill(docs, terms, vecs, other_vecs)
    return r
