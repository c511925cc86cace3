"""A retriever over a whole corpus at once: the one way the engine, eval and bench build.

Analysing every entry (jieba words and bigrams) is most of a rebuild's CPU; with `workers`
it runs in that many processes (indexer/pool.py). They first count LSA's n-grams (text
normalisation is Python, a tenth of a build), then analyse while this process fits LSA on
their counts; the same counts give the entries' vectors (no second pass to embed them) and
serve calibration's refit, which recounts only the passages that differ. Each vector index
is filled with one call, so past its threshold HNSW is built once rather than grown 256
rows at a time after a flat-to-HNSW switch.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import cast

import numpy as np

from embeddings.base import Counting, Embedder
from indexer.analyzer import Analyzer
from indexer.docs import EntryDoc
from indexer.packed import Packed, join, pack
from indexer.pool import fork_pool
from indexer.retriever import MIN_FIT_DOCS, DenseChannel, Progress, Retriever, RetrieverConfig
from indexer.vector import VectorIndex

CHUNK = 500  # entries per unit of work handed to an analysis worker
_ANALYZER: Analyzer | None = None  # each analysis worker's, set when it starts
_COUNTER: Counting | None = None  # and the embedder whose n-grams it counts, if any


def _start(analyzer: Analyzer, counter: Counting | None) -> None:
    global _ANALYZER, _COUNTER
    _ANALYZER, _COUNTER = analyzer, counter


def _weigh(chunk: list[dict[str, str]]) -> Packed:
    assert _ANALYZER is not None, "analysis worker started without its analyzer"
    return pack([_ANALYZER.weighted(f) for f in chunk])


def _count(passages: list[str]) -> object:
    assert _COUNTER is not None, "counting worker started without its embedder"
    return _COUNTER.count(passages)


@contextmanager
def _analysis(
    analyzer: Analyzer,
    fields: Sequence[dict[str, str]],
    workers: int,
    counter: Counting | None,
    passages: Sequence[str],
) -> Iterator[Iterator[Packed]]:
    """Each chunk's term weights (packed: indexer/packed.py), in order: started in worker
    processes on entry (so the caller can work meanwhile), or computed here as read.

    With a `counter` (LSA), the workers first count the passages' n-grams and the counter
    `remember`s them on entry: its fit then runs here while the workers analyse."""
    chunks = [list(fields[i : i + CHUNK]) for i in range(0, len(fields), CHUNK)]
    if workers <= 1 or len(chunks) < 2:
        yield (pack([analyzer.weighted(f) for f in chunk]) for chunk in chunks)
        return
    analyzer.tokenizer.initialize()  # loaded once, here: forked workers inherit it
    pool = fork_pool(min(workers, len(chunks)), _start, (analyzer, counter))
    try:
        # Submitted first, so run first: the fit waits on the counts, not on the analysis.
        counts = (
            []
            if counter is None
            else [
                pool.submit(_count, list(passages[i : i + CHUNK]))
                for i in range(0, len(passages), CHUNK)
            ]
        )
        running = [pool.submit(_weigh, chunk) for chunk in chunks]
        if counter is not None:
            counter.remember([future.result() for future in counts])
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
    passages = [d.passage(learn_from_use=learn) for d in docs]
    fits = embedder is not None and embedder.dim > 0 and embedder.needs_fit
    counted = fits and len(passages) >= MIN_FIT_DOCS and isinstance(embedder, Counting)
    counter = cast(Counting, embedder) if counted else None
    with _analysis(analyzer, fields, workers, counter, passages) as chunks:
        embedder, vecs = _fitted(embedder, passages, embed)
        others: dict[str, DenseChannel] = {}
        other_vecs: dict[str, np.ndarray] = {}
        for other, emb in (extra or {}).items():
            fitted, got = _fitted(emb, passages, True)
            if fitted is not None and got is not None:
                index = VectorIndex(fitted.dim, fitted.model_id, ann_threshold=ann_threshold)
                others[other], other_vecs[other] = DenseChannel(fitted, index), got
        vectors = None
        if embedder is not None:
            vectors = VectorIndex(embedder.dim, embedder.model_id, ann_threshold=ann_threshold)
        r = Retriever(analyzer, embedder, config, vectors, name=name, extra=others)
        # Here while the workers still analyse: HNSW's build is the longest part of a fill.
        r.fill_vectors(docs, vecs, other_vecs)
        parts: list[Packed] = []
        done = 0
        for chunk in chunks:
            parts.append(chunk)
            done += len(chunk)
            if progress:
                progress(done, len(docs))
    r.fill_lexical(docs, join(parts))
    return r
