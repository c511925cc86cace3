"""SearchEngine: the process-wide retriever kept in step with a change source."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from embeddings.base import Counting
from indexer import backfill, calibration, store
from indexer.calibration_model import Band, Calibration
from indexer.channels import EngineBase, Role
from indexer.errors import IndexStoreError
from indexer.fields import Filters
from indexer.retriever import (
    MIN_FIT_DOCS,
    Hit,
    Progress,
    Ranked,
    Retriever,
)

log = logging.getLogger(__name__)
REFIT_GROWTH = 1.5  # a corpus-fitted embedder is refitted once the KB grows by this factor
__all__ = ["Role", "SearchEngine"]


class SearchEngine(EngineBase):
    """Owns tokenizer, indexes and embedder; one writer (build/sync), many readers.

    With a writer lock it is one of several processes sharing the index: the lock holder
    publishes generations (indexer/store.py), the others map them (indexer/follow.py).
    """

    def start(self) -> None:
        """Take the writer lock if free; load the published index (a writer rebuilds one when
        none can be trusted); then catch up. A reader without an index stays not ready and
        the background loop loads the writer's first generation when it appears."""
        self.analyzer.tokenizer.initialize()
        _ = self.analyzer.shorthand  # built on first use (pypinyin, ~1-3 s): not in a request
        if self.lock is not None and self.lock.try_acquire():
            self.role = "writer"
        if not self.follow():
            if self.role == "reader":
                return
            self.rebuild()
        self.sync()
        self.ready = True

    def _load(self) -> tuple[Retriever, store.Saved, Calibration] | None:
        """The published generation, mapped (None when it cannot be trusted)."""
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
            log.warning("search index not loaded (%s)", exc)
            return None
        if self.slow_dense:
            backfill.restore_state(r, self.index_dir, self.source.load_docs)
        cal = calibration.load(self.index_dir, self.calibration_key(r))
        if cal is None and self.role == "reader":  # the writer saves one with each generation
            cal = calibration.prior(self.calibration_key(r))
        elif cal is None:  # saved before calibration existed, or under other channels
            cal = self._calibrate(r, self.source.load_docs())
            calibration.save(cal, self.index_dir, self.config.version)
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

    def rebuild(self, progress: Progress | None = None, *, workers: int = 1) -> int:
        """Build every channel from the source and swap it in; returns the entry count.

        `workers` > 1 analyses entries in that many processes (the CLI's rebuild; a serving
        process, which runs threads, analyses in its own)."""
        with self._writer:
            # The sequence is read before the documents: anything newer is re-applied by sync.
            seq = self.source.latest_seq()
            docs = self.source.load_docs()
            r = self.build_retriever(
                docs, progress=progress, embed=not self.slow_dense, workers=workers
            )
            if self.slow_dense:
                with self._lock.read():
                    kept = backfill.carry_over(self.retriever, r)
                log.info("dense channel: %d vectors kept, %d to embed", kept, len(r.pending))
            fitted = len(docs) if any(e.needs_fit for e, _ in r.dense_channels().values()) else 0
            cal = self._calibrate(r, docs)
            for emb, _index in r.dense_channels().values():
                if isinstance(emb, Counting):
                    emb.release()  # the fit's counts served calibration's refit
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

    def _needs_refit(self, count: int) -> bool:
        if self.backend == "none":
            return False
        have = self.retriever.dense_channels()
        if len(have) < len(self.channels):  # corpus-fitted channels waiting for entries
            return count >= MIN_FIT_DOCS
        fitted = any(emb.needs_fit for emb, _ in have.values())
        return fitted and count > max(self.fitted_count * REFIT_GROWTH, MIN_FIT_DOCS)

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
            calibration.save(cal, self.index_dir, self.config.version)
            backfill.save_state(r, self.index_dir)
            store.save(
                r,
                self.index_dir,
                last_seq=seq,
                backend=self.backend,
                fitted_count=fitted,
                version=self.config.version,
            )
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

    # ---- background work (indexer/follow.py) -------------------------------------------
    def run_background(self, interval: float, publish_every: float = 30.0) -> None:
        """Follow changes and generations in daemon threads until `stop()`."""
        from indexer.follow import Follower

        self._follower = Follower(self, interval, publish_every)
        self._follower.start()

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
