"""SearchEngine: the process-wide retriever kept in step with a change source."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from embeddings.base import Embedder, EmbedderError
from embeddings.factory import EmbeddingConfig, make_embedder, resolve_backend
from indexer import backfill, calibration, election, store
from indexer.analyzer import Analyzer
from indexer.calibration import Band
from indexer.docs import EntryDoc
from indexer.election import WriterLock
from indexer.errors import IndexStoreError
from indexer.lexical import Filters
from indexer.locks import RWLock
from indexer.retriever import (
    MIN_FIT_DOCS,
    Hit,
    Progress,
    Ranked,
    Retriever,
    RetrieverConfig,
    build_retriever,
)
from indexer.source import ChangeSource
from indexer.text import ngram_text

if TYPE_CHECKING:
    from indexer.follow import Follower

log = logging.getLogger(__name__)
REFIT_GROWTH = 1.5  # a corpus-fitted embedder is refitted once the KB grows by this factor
Role = Literal["single", "writer", "reader"]


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine reads, as plain values; the application maps its settings here."""

    index_dir: Path
    retriever: RetrieverConfig
    embedding: EmbeddingConfig
    ann_threshold: int  # vectors past which the dense channel switches from flat to HNSW
    version: str  # the application's version, recorded in every index manifest


class SearchEngine:
    """Owns tokenizer, indexes and embedder; one writer (build/sync), many readers."""

    def __init__(
        self,
        config: EngineConfig,
        source: ChangeSource,
        *,
        analyzer: Analyzer | None = None,
        lock: WriterLock | None = None,
    ) -> None:
        self.config = config
        self.source = source
        self.index_dir = config.index_dir
        self.analyzer = analyzer or Analyzer()
        self._shared_embedder: Embedder | None = None
        self.backend = self._backend_name()
        self._lock = RWLock()
        self._writer = threading.Lock()
        self.retriever = Retriever(self.analyzer, None, config.retriever)
        self.calibration = calibration.prior(self.calibration_key(self.retriever))
        self.last_seq = 0
        self.fitted_count = 0
        # "single": this process alone (CLI, tests); with a lock, "writer" or "reader".
        self.lock = lock
        self.role: Role = "single" if lock is None else "reader"
        self.generation = ""
        self.ready = False
        self._dirty = False
        self._dirty_since = 0.0
        self._follower: Follower | None = None
        self._refit_after_backfill = False

    # ---- construction ------------------------------------------------------------------
    def _backend_name(self) -> str:
        """The concrete dense backend ("none" when off or when it cannot be built here)."""
        name = resolve_backend(self.config.embedding.backend)
        if name == "none" or self.config.retriever.dense_weight <= 0:
            return "none"
        try:
            probe = self._make_embedder()
        except EmbedderError as exc:
            log.warning("dense channel off: %s", exc)
            return "none"
        if probe is None:
            return "none"
        if not probe.needs_fit:
            self._shared_embedder = probe
        return name

    def _make_embedder(self) -> Embedder | None:
        return make_embedder(self.config.embedding, preprocess=ngram_text)

    def new_embedder(self) -> Embedder | None:
        """The configured embedder: pretrained models shared, corpus-fitted ones fresh per fit."""
        if self.backend == "none":
            return None
        if self._shared_embedder is not None:
            return self._shared_embedder
        emb = self._make_embedder()
        if emb is not None and not emb.needs_fit:
            self._shared_embedder = emb
        return emb

    def build_retriever(
        self,
        docs: Sequence[EntryDoc],
        config: RetrieverConfig | None = None,
        progress: Progress | None = None,
        *,
        embed: bool = True,
    ) -> Retriever:
        """A fresh retriever over `docs` with this engine's analyzer and embedder."""
        cfg = config or self.config.retriever
        emb = self.new_embedder() if cfg.dense_weight > 0 else None
        return build_retriever(
            docs,
            self.analyzer,
            emb,
            cfg,
            ann_threshold=self.config.ann_threshold,
            progress=progress,
            embed=embed,
        )

    @property
    def slow_dense(self) -> bool:
        """A dense channel too slow to embed inline: entries are embedded in the background."""
        emb = self._shared_embedder
        return emb is not None and emb.slow

    def calibration_key(self, r: Retriever) -> str:
        """The channel configuration a confidence calibration belongs to."""
        return f"{self.backend}:{r.config.method}" if r.dense else "lexical"

    def _calibrate(self, r: Retriever, docs: Sequence[EntryDoc]) -> calibration.Calibration:
        t0 = time.perf_counter()
        cal = calibration.calibrate(r, docs, self.calibration_key(r))
        log.info(
            "confidence %s (%s) high %.3f medium %.3f in %.1f s: %s",
            cal.key, cal.source, cal.high, cal.medium, time.perf_counter() - t0, cal.report,
        )  # fmt: skip
        return cal

    def start(self) -> None:
        """Take the writer lock if free; load the published index (a writer rebuilds one when
        none can be trusted); then catch up. A reader without an index stays not ready and
        the background loop loads the writer's first generation when it appears."""
        self.analyzer.tokenizer.initialize()
        if self.lock is not None and self.lock.try_acquire():
            self.role = "writer"
        if not self.follow():
            if self.role == "reader":
                return
            self.rebuild()
        self.sync()
        self.ready = True

    def _load(self) -> tuple[Retriever, store.Saved, calibration.Calibration] | None:
        """The published generation, mapped (None when it cannot be trusted)."""
        r = Retriever(self.analyzer, self.new_embedder(), self.config.retriever)
        try:
            saved = store.load(
                r, self.index_dir, backend=self.backend, ann_threshold=self.config.ann_threshold
            )
        except (IndexStoreError, OSError) as exc:
            log.warning("search index not loaded (%s)", exc)
            return None
        if self.slow_dense:
            backfill.restore_state(r, self.index_dir, self.source.load_docs)
        cal = calibration.load(self.index_dir, self.calibration_key(r))
        if cal is None and self.role == "reader":  # the writer saves one with each generation
            cal = calibration.prior(self.calibration_key(r))
        elif cal is None:  # saved before calibration existed, or under other channels
            cal = self._calibrate(r, self.source.load_docs())
            calibration.save(cal, self.index_dir)
        return r, saved, cal

    def follow(self) -> bool:
        """Map the published generation and switch to it, replaying changes it lacks."""
        loaded = self._load()
        if loaded is None:
            return False
        r, saved, cal = loaded
        with self._writer:
            target = self._apply(r, saved.last_seq)
            with self._lock.write():
                self.retriever, self.last_seq = r, max(target, saved.last_seq)
                self.fitted_count, self.calibration = saved.fitted_count, cal
                self.generation = saved.generation
        return True

    def rebuild(self, progress: Progress | None = None) -> int:
        """Build every channel from the source and swap it in; returns the entry count."""
        with self._writer:
            # The sequence is read before the documents: anything newer is re-applied by sync.
            seq = self.source.latest_seq()
            docs = self.source.load_docs()
            r = self.build_retriever(docs, progress=progress, embed=not self.slow_dense)
            if self.slow_dense:
                with self._lock.read():
                    kept = backfill.carry_over(self.retriever, r)
                log.info("dense channel: %d vectors kept, %d to embed", kept, len(r.pending))
            fitted = len(docs) if r.embedder is not None and r.embedder.needs_fit else 0
            cal = self._calibrate(r, docs)
            with self._lock.write():
                self.retriever, self.last_seq, self.fitted_count = r, seq, fitted
                self.calibration = cal
            self._mark_dirty()
        self.save()
        return len(docs)

    # ---- following the change sequence -------------------------------------------------
    def _apply(self, r: Retriever, since: int) -> int:
        """Apply changes after `since` to `r` (under `_writer`); returns the last applied seq."""
        changes = self.source.changes_since(since)
        while changes:
            last = {ch.entry_id: ch.op for ch in changes}
            docs = self.source.load_docs([i for i, op in last.items() if op != "delete"])
            found = {d.id for d in docs}
            # A slow model never holds a write back: its vectors follow in the background.
            prepared = r.prepare(docs, embed=not self.slow_dense)
            with self._lock.write():
                r.remove([i for i in last if i not in found])
                r.apply(prepared)
                if self.role == "single":  # shared roles fold deltas by publishing instead
                    r.maintain()
            since = changes[-1].seq
            changes = self.source.changes_since(since)
        return since

    def sync(self) -> int:
        """Apply changes since the last applied sequence, in order; returns how many."""
        with self._writer:
            changes = self.source.changes_since(self.last_seq)
            if not changes:
                return 0
            count = len(self.retriever.lexical) + len({c.entry_id for c in changes})
            if self.role != "reader" and self._needs_refit(count):
                self._writer.release()
                try:
                    self.rebuild()
                finally:
                    self._writer.acquire()
                return len(changes)
            target = self._apply(self.retriever, self.last_seq)
            with self._lock.write():
                self.last_seq = target
            self._mark_dirty()
            return len(changes)

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty, self._dirty_since = True, time.monotonic()

    def dirty_for(self) -> float:
        """Seconds since the first change not yet published (-1 when nothing is pending)."""
        return time.monotonic() - self._dirty_since if self._dirty else -1.0

    def _needs_refit(self, count: int) -> bool:
        if self.backend == "none":
            return False
        emb = self.retriever.embedder
        if emb is None:  # a corpus-fitted channel waiting for enough entries to fit on
            return self._shared_embedder is None and count >= MIN_FIT_DOCS
        return emb.needs_fit and count > max(self.fitted_count * REFIT_GROWTH, MIN_FIT_DOCS)

    def save(self) -> None:
        """Publish the current state as a new generation and map it (readers never publish)."""
        if not self._dirty or self.role == "reader":
            return
        with self._writer:  # no sync meanwhile; searches continue on the live retriever
            with self._lock.read():
                r, seq, fitted, cal = (
                    self.retriever,
                    self.last_seq,
                    self.fitted_count,
                    self.calibration,
                )
            # Calibration and background state first: the manifest is what readers follow.
            calibration.save(cal, self.index_dir)
            backfill.save_state(r, self.index_dir)
            store.save(
                r, self.index_dir, last_seq=seq, backend=self.backend, fitted_count=fitted,
                version=self.config.version,
            )  # fmt: skip
            self._dirty = False
        if not self.follow():  # what was just written is the one source of truth now
            raise IndexStoreError("the index just published cannot be loaded back")

    # ---- reads -------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        boost: dict[str, str] | None = None,
        *,
        dense: bool | None = True,
    ) -> Ranked:
        """Ranked entry ids for a query (a consistent snapshot between writes).

        `dense=None` (typing in the widget): a slow dense channel joins only when the query's
        vector is already cached, so the answer stays inside the suggest latency budget.
        """
        with self._lock.read():
            r = self.retriever
            if dense is None:
                dense = not self.slow_dense or r.has_query_vector(query)
            return r.search(query, k, filters, boost=boost, dense=dense)

    def rate(self, query: str, hits: Sequence[Hit]) -> list[tuple[float, Band]]:
        """Calibrated (probability, band) of each hit `search(query, …)` returned."""
        with self._lock.read():
            return self.calibration.rate(self.retriever, query, hits)

    def status(self) -> dict[str, Any]:
        """Readiness, role and generation served, size, last applied sequence, dense model id,
        confidence operating point; with shared roles, the index writer's last heartbeat."""
        r, cal = self.retriever, self.calibration
        writer = election.read_status(self.index_dir) if self.role != "single" else {}
        return {
            "ready": self.ready,
            "role": self.role,
            "pid": os.getpid(),
            "generation": self.generation,
            **({"writer": writer} if self.role != "single" else {}),
            "entries": len(r.lexical),
            "last_seq": self.last_seq,
            "dense": r.embedder.model_id if r.embedder is not None and r.dense else "none",
            "dense_progress": {
                "embedded": len(r.vectors) if r.vectors is not None else 0,
                "pending": len(r.pending),
                "background": self.slow_dense,
            },
            "confidence": {
                "key": cal.key,
                "source": cal.source,
                "high": round(cal.high, 4),
                "medium": round(cal.medium, 4),
                **cal.report,
            },
        }

    # ---- background work (indexer/follow.py) -------------------------------------------
    def run_background(self, interval: float, publish_every: float = 30.0) -> None:
        """Follow changes and generations in daemon threads until `stop()`."""
        from indexer.follow import Follower

        self._follower = Follower(self, interval, publish_every)
        self._follower.start()

    def backfill_step(self) -> int:
        """Embed the next few pending passages (outside every lock); returns how many landed."""
        with self._lock.read():
            r = self.retriever
            items = backfill.take(r)
        if not items or r.embedder is None:
            return 0
        vecs = r.embedder.encode([text for _, text in items], kind="passage")
        with self._lock.write():
            if self.retriever is not r:  # rebuilt meanwhile: the new one has its own queue
                return 0
            done = r.set_vectors(items, vecs)
            if not r.pending:
                self._refit_after_backfill = True
        self._mark_dirty()
        return done

    def embed_pending(self, progress: Progress | None = None) -> int:
        """Embed the whole queue now (`kbsvc reindex`), refit confidence on it, save."""
        total, done = len(self.retriever.pending), 0
        while n := self.backfill_step():
            done += n
            if progress:
                progress(done, total)
        if done:
            self._refit_after_backfill = False
            self.calibration = self._calibrate(self.retriever, self.source.load_docs())
            self._mark_dirty()
            self.save()
        return done

    def refit_due(self) -> bool:
        """The dense channel just completed: confidence should be refitted on it."""
        return self._refit_after_backfill

    def recalibrate(self) -> None:
        """Refit the confidence operating point on the current channels."""
        self._refit_after_backfill = False
        self.calibration = self._calibrate(self.retriever, self.source.load_docs())
        self._mark_dirty()

    def stop(self) -> None:
        """Stop the background work, publish what was applied, give up the writer lock."""
        if self._follower is not None:
            self._follower.stop()
        try:
            self.save()
        except Exception:  # noqa: BLE001 - the source can always rebuild the index
            log.exception("saving the search index failed")
        if self.lock is not None:
            self.lock.release()
