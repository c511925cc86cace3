"""SearchEngine: the process-wide retriever kept in step with the database's change sequence."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.analyzer import Analyzer
from indexer.dbsource import load_docs
from indexer.lexical import Filters
from indexer.locks import RWLock
from indexer.retriever import Ranked, Retriever, RetrieverConfig
from kbsvc.config import Settings
from kbsvc.entries.changes import changes_since, latest_seq

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
REFIT_GROWTH = 1.5  # a corpus-fitted embedder is refitted once the KB grows by this factor
MIN_FIT_DOCS = 10  # below this a corpus-fitted embedder has nothing to learn from
BATCH = 256


def _vector_cls() -> Any:
    try:
        from indexer.vector import VectorIndex
    except ImportError:  # the dense channel ships separately; lexical-only until then
        return None
    return VectorIndex


class SearchEngine:
    """Owns tokenizer, indexes and embedder; one writer (build/sync), many readers."""

    def __init__(
        self,
        settings: Settings,
        db_engine: Engine,
        *,
        embedder_factory: Callable[[], Any] | None = None,
        config: RetrieverConfig | None = None,
        index_dir: Path | None = None,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.settings = settings
        self.db = db_engine
        self.index_dir = index_dir or settings.index_dir
        self.analyzer = analyzer or Analyzer()
        self.config = config or RetrieverConfig(
            lexical_weight=settings.search.lexical_weight,
            dense_weight=settings.search.dense_weight,
            method=settings.search.fusion,
            learn_from_use=settings.search.learn_from_use,
        )
        self._make_embedder = embedder_factory or self._settings_embedder
        self._shared_embedder: Any = None
        self.backend = self._backend_name()
        self._lock = RWLock()
        self._writer = threading.Lock()
        self.retriever = Retriever(self.analyzer, None, self.config)
        self.last_seq = 0
        self.fitted_count = 0
        self.ready = False
        self._dirty = False
        self._saved_at = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- construction ------------------------------------------------------------------
    def _backend_name(self) -> str:
        """The concrete dense backend ("none" when it cannot be built here)."""
        try:
            from embeddings.base import EmbedderError
            from embeddings.factory import resolve_backend
        except ImportError:
            return "none"
        name = resolve_backend(self.settings.embedding.backend)
        if name == "none":
            return name
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

    def _settings_embedder(self) -> Any:
        from embeddings.factory import make_embedder

        return make_embedder(self.settings.embedding)

    def _new_embedder(self) -> Any:
        # Pretrained models are loaded once and shared; corpus-fitted ones are fresh per fit.
        if self.backend == "none":
            return None
        if self._shared_embedder is not None:
            return self._shared_embedder
        emb = self._make_embedder()
        if emb is not None and not emb.needs_fit:
            self._shared_embedder = emb
        return emb

    def start(self) -> None:
        """Load the saved index if it can be trusted, else rebuild; then catch up."""
        self.analyzer.tokenizer.initialize()
        if not self._try_load():
            self.rebuild()
        self.sync()
        self.ready = True

    def _try_load(self) -> bool:
        try:
            from indexer import store
            from indexer.errors import IndexStoreError
        except ImportError:
            return False
        emb = self._new_embedder()
        r = Retriever(self.analyzer, emb, self.config)
        vcls = _vector_cls() if emb is not None and emb.dim > 0 else None
        try:
            m = store.load(
                r,
                self.index_dir,
                backend=self.backend,
                vector_cls=vcls,
                vector_options={"ann_threshold": self.settings.search.ann_threshold},
            )
        except (IndexStoreError, OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("search index not loaded (%s); rebuilding from the database", exc)
            return False
        with self._lock.write():
            self.retriever, self.last_seq = r, int(m["last_seq"])
            self.fitted_count = int(m.get("fitted_count", 0))
        return True

    def rebuild(self, progress: Progress | None = None) -> int:
        """Build every channel from the database and swap it in; returns the entry count."""
        with self._writer:
            with Session(self.db) as session:
                seq = latest_seq(session)
                docs = load_docs(session)
            emb = self._new_embedder()
            fitted = 0
            if emb is not None and emb.needs_fit:
                if len(docs) >= MIN_FIT_DOCS:
                    emb.fit([d.passage(learn_from_use=self.config.learn_from_use) for d in docs])
                    fitted = len(docs)
                else:
                    emb = None
            vcls = _vector_cls() if emb is not None and emb.dim > 0 else None
            ann = self.settings.search.ann_threshold
            vectors = vcls(emb.dim, emb.model_id, ann_threshold=ann) if vcls else None
            r = Retriever(self.analyzer, emb if vectors is not None else None, self.config, vectors)
            for start in range(0, len(docs), BATCH):
                r.add(docs[start : start + BATCH])
                if progress:
                    progress(min(start + BATCH, len(docs)), len(docs))
            r.lexical.compact()
            with self._lock.write():
                self.retriever, self.last_seq, self.fitted_count = r, seq, fitted
            self._dirty = True
            self.save()
            return len(docs)

    # ---- following the change sequence -------------------------------------------------
    def sync(self) -> int:
        """Apply changes since the last applied sequence, in order; returns how many."""
        with self._writer:
            with Session(self.db) as session:
                changes = changes_since(session, self.last_seq)
                if not changes:
                    return 0
                last: dict[int, str] = {}
                for ch in changes:
                    last[ch.entry_id] = ch.op
                upserts = [i for i, op in last.items() if op != "delete"]
                docs = load_docs(session, upserts)
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
            prepared = r.prepare(docs)
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
        emb = self.retriever.embedder
        if emb is None:  # a corpus-fitted channel waiting for enough entries to fit on
            return self._shared_embedder is None and count >= MIN_FIT_DOCS
        return bool(emb.needs_fit) and count > max(self.fitted_count * REFIT_GROWTH, MIN_FIT_DOCS)

    def save(self) -> None:
        """Persist the current state (skipped when nothing changed since the last save)."""
        if not self._dirty:
            return
        try:
            from indexer import store
        except ImportError:
            return
        with self._lock.write():  # compaction inside the dump reorders slots
            store.save(
                self.retriever,
                self.index_dir,
                last_seq=self.last_seq,
                backend=self.backend,
                fitted_count=self.fitted_count,
            )
            self._dirty = False
            self._saved_at = time.monotonic()

    # ---- reads -------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int,
        filters: Filters | None = None,
        boost: dict[str, str] | None = None,
    ) -> Ranked:
        """Ranked entry ids for a query (a consistent snapshot between writes)."""
        with self._lock.read():
            return self.retriever.search(query, k, filters, boost=boost)

    def status(self) -> dict[str, Any]:
        r = self.retriever
        return {
            "ready": self.ready,
            "entries": len(r.lexical),
            "last_seq": self.last_seq,
            "dense": r.embedder.model_id if r.dense else "none",
        }

    # ---- background loop ---------------------------------------------------------------
    def notify(self) -> None:
        """Wake the sync loop now (a write just happened in this process)."""
        self._wake.set()

    def run_background(self, interval: float = 0.3, save_every: float = 60.0) -> None:
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

    def stop(self) -> None:
        """Stop the loop and save what was applied."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        try:
            self.save()
        except Exception:  # noqa: BLE001 - the database can always rebuild the index
            log.exception("saving the search index failed")
