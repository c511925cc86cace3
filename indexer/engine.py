"""SearchEngine: the process-wide retriever kept in step with a change source."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.base import Embedder, EmbedderError
from embeddings.factory import EmbeddingConfig, make_embedder, resolve_backends
from indexer import backfill, calibration, store
from indexer.analyzer import Analyzer
from indexer.calibration import Band
from indexer.docs import EntryDoc
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

log = logging.getLogger(__name__)
REFIT_GROWTH = 1.5  # a corpus-fitted embedder is refitted once the KB grows by this factor


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
        self, config: EngineConfig, source: ChangeSource, *, analyzer: Analyzer | None = None
    ) -> None:
        self.config = config
        self.source = source
        self.index_dir = config.index_dir
        self.analyzer = analyzer or Analyzer()
        self._shared: dict[str, Embedder] = {}  # pretrained models, loaded once
        self.channels = self._available()  # dense backends, the primary first
        self.backend = "+".join(self.channels) or "none"
        self._lock = RWLock()
        self._writer = threading.Lock()
        self.retriever = Retriever(self.analyzer, None, config.retriever)
        self.calibration = calibration.prior(self.calibration_key(self.retriever))
        self.last_seq = 0
        self.fitted_count = 0
        self.ready = False
        self._dirty = False
        self._saved_at = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._embedder_thread: threading.Thread | None = None
        self._refit_after_backfill = False

    # ---- construction ------------------------------------------------------------------
    def _available(self) -> list[str]:
        """The configured dense backends that can be built here, the primary first."""
        if self.config.retriever.dense_weight <= 0:
            return []
        out: list[str] = []
        for name in resolve_backends(self.config.embedding.backend):
            try:
                probe = self._make_embedder(name)
            except EmbedderError as exc:
                log.warning("dense channel %s off: %s", name, exc)
                continue
            if probe is None:
                continue
            if not probe.needs_fit:
                self._shared[name] = probe
            elif out and name != out[0] and probe.slow:
                continue  # only the primary channel may embed in the background
            out.append(name)
        return out

    def _make_embedder(self, name: str) -> Embedder | None:
        return make_embedder(self.config.embedding, preprocess=ngram_text, backend=name)

    @property
    def _shared_embedder(self) -> Embedder | None:
        return self._shared.get(self.channels[0]) if self.channels else None

    def _embedder(self, name: str) -> Embedder | None:
        """Pretrained models shared, corpus-fitted ones fresh per fit."""
        return self._shared.get(name) or self._make_embedder(name)

    def new_embedder(self) -> Embedder | None:
        """The primary dense channel's embedder (None: lexical only)."""
        return self._embedder(self.channels[0]) if self.channels else None

    def new_extra(self) -> dict[str, Embedder]:
        """Embedders of the fast dense channels beside the primary one."""
        out = {}
        for name in self.channels[1:]:
            emb = self._embedder(name)
            if emb is not None:
                out[name] = emb
        return out

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
        on = cfg.dense_weight > 0
        return build_retriever(
            docs,
            self.analyzer,
            self.new_embedder() if on else None,
            cfg,
            ann_threshold=self.config.ann_threshold,
            progress=progress,
            embed=embed,
            name=self.channels[0] if self.channels else "dense",
            extra=self.new_extra() if on else None,
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
        """Load the saved index if it can be trusted, else rebuild; then catch up."""
        self.analyzer.tokenizer.initialize()
        if not self._try_load():
            self.rebuild()
        self.sync()
        self.ready = True

    def _try_load(self) -> bool:
        name = self.channels[0] if self.channels else "dense"
        r = Retriever(self.analyzer, self.new_embedder(), self.config.retriever, name=name)
        try:
            saved = store.load(
                r,
                self.index_dir,
                backend=self.backend,
                ann_threshold=self.config.ann_threshold,
                extra=self.new_extra(),
            )
        except (IndexStoreError, OSError) as exc:
            log.warning("search index not loaded (%s); rebuilding from the source", exc)
            return False
        backfill.restore_state(r, self.index_dir, self.source.load_docs)
        cal = calibration.load(self.index_dir, self.calibration_key(r))
        if cal is None:  # saved before calibration existed, or under other channels
            cal = self._calibrate(r, self.source.load_docs())
            calibration.save(cal, self.index_dir, self.config.version)
        with self._lock.write():
            self.retriever, self.last_seq = r, saved.last_seq
            self.fitted_count = saved.fitted_count
            self.calibration = cal
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
            fitted = len(docs) if any(e.needs_fit for e, _ in r.dense_channels().values()) else 0
            cal = self._calibrate(r, docs)
            with self._lock.write():
                self.retriever, self.last_seq, self.fitted_count = r, seq, fitted
                self.calibration = cal
            self._dirty = True
            self.save()
            return len(docs)

    # ---- following the change sequence -------------------------------------------------
    def sync(self) -> int:
        """Apply changes since the last applied sequence, in order; returns how many."""
        with self._writer:
            changes = self.source.changes_since(self.last_seq)
            if not changes:
                return 0
            last = {ch.entry_id: ch.op for ch in changes}
            docs = self.source.load_docs([i for i, op in last.items() if op != "delete"])
            target = changes[-1].seq
            if self._needs_refit(len(self.retriever.lexical) + len(docs)):
                self._writer.release()
                try:
                    self.rebuild()
                finally:
                    self._writer.acquire()
                return len(changes)
            found = {d.id for d in docs}
            gone = [i for i in last if i not in found]
            r = self.retriever
            # A slow model never holds a write back: its vectors follow in the background.
            prepared = r.prepare(docs, embed=not self.slow_dense)
            with self._lock.write():
                r.remove(gone)
                r.apply(prepared)
                r.maintain()
                self.last_seq = target
            self._dirty = True
            return len(changes)

    def _needs_refit(self, count: int) -> bool:
        if self.backend == "none":
            return False
        have = self.retriever.dense_channels()
        if len(have) < len(self.channels):  # corpus-fitted channels waiting for entries
            return count >= MIN_FIT_DOCS
        fitted = any(emb.needs_fit for emb, _ in have.values())
        return fitted and count > max(self.fitted_count * REFIT_GROWTH, MIN_FIT_DOCS)

    def save(self) -> None:
        """Persist the current state (skipped when nothing changed since the last save)."""
        if not self._dirty:
            return
        with self._lock.write():  # compaction inside the dump reorders slots
            store.save(
                self.retriever,
                self.index_dir,
                last_seq=self.last_seq,
                backend=self.backend,
                fitted_count=self.fitted_count,
                version=self.config.version,
            )
            calibration.save(self.calibration, self.index_dir, self.config.version)
            backfill.save_state(self.retriever, self.index_dir)
            self._dirty = False
            self._saved_at = time.monotonic()

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
        """Readiness, size, last applied sequence, dense model id and confidence operating point."""
        r, cal = self.retriever, self.calibration
        return {
            "ready": self.ready,
            "entries": len(r.lexical),
            "last_seq": self.last_seq,
            "dense": r.embedder.model_id if r.embedder is not None and r.dense else "none",
            "channels": ["lexical", *r.dense_channels()],
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

    # ---- background loop ---------------------------------------------------------------
    def run_background(self, interval: float, save_every: float = 60.0) -> None:
        """Follow the change sequence in a daemon thread until `stop()`."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.sync()
                    if self._dirty and time.monotonic() - self._saved_at > save_every:
                        self.save()
                except Exception:  # noqa: BLE001 - keep following; the next pass retries
                    log.exception("search index sync failed")
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="kbsvc-index-sync", daemon=True)
        self._thread.start()
        if self.slow_dense:
            self._embedder_thread = threading.Thread(
                target=self._backfill_loop, name="kbsvc-dense-backfill", daemon=True
            )
            self._embedder_thread.start()

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
        self._dirty = True
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
            self._dirty = True
            self.save()
        return done

    def _backfill_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self.backfill_step():
                    continue
                if self._refit_after_backfill:  # the dense channel is complete: refit on it
                    self._refit_after_backfill = False
                    cal = self._calibrate(self.retriever, self.source.load_docs())
                    self.calibration = cal
                    self._dirty = True
            except Exception:  # noqa: BLE001 - keep going; the queue is still there
                log.exception("background embedding failed")
            self._stop.wait(1.0)

    def stop(self) -> None:
        """Stop the loop and save what was applied."""
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._embedder_thread):
            if thread is not None:
                thread.join(timeout=10)
        try:
            self.save()
        except Exception:  # noqa: BLE001 - the source can always rebuild the index
            log.exception("saving the search index failed")
