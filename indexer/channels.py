"""The engine's state and its channels: embedder, retriever construction, calibration, status."""

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
from embeddings.factory import EmbeddingConfig, make_embedder, resolve_backends
from indexer import backfill, calibration, election
from indexer.analyzer import Analyzer
from indexer.build import build_retriever
from indexer.calibration_model import Calibration
from indexer.docs import EntryDoc
from indexer.election import WriterLock
from indexer.locks import RWLock
from indexer.retriever import Progress, Retriever, RetrieverConfig
from indexer.source import ChangeSource
from indexer.text import ngram_text

if TYPE_CHECKING:
    from indexer.follow import Follower

log = logging.getLogger("indexer.engine")
Role = Literal["single", "writer", "reader"]


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine reads, as plain values; the application maps its settings here."""

    index_dir: Path
    retriever: RetrieverConfig
    embedding: EmbeddingConfig
    ann_threshold: int  # vectors past which the dense channel switches from flat to HNSW
    version: str  # the application's version, recorded in every index manifest


class EngineBase:
    """What every SearchEngine holds; indexer/engine.py adds loading, following and publishing."""

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
        self._shared: dict[str, Embedder] = {}  # pretrained models, loaded once
        self.channels = self._available()  # dense backends, the primary first
        self.backend = "+".join(self.channels) or "none"
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
        workers: int = 1,
    ) -> Retriever:
        """A fresh retriever over `docs` with this engine's analyzer and embedder (`workers`:
        analysis processes, see indexer/build.py)."""
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
            workers=workers,
        )

    @property
    def slow_dense(self) -> bool:
        """A dense channel too slow to embed inline: entries are embedded in the background."""
        emb = self._shared_embedder
        return emb is not None and emb.slow

    def calibration_key(self, r: Retriever) -> str:
        """The channel configuration a confidence calibration belongs to."""
        return f"{self.backend}:{r.config.method}" if r.dense else "lexical"

    def _calibrate(self, r: Retriever, docs: Sequence[EntryDoc]) -> Calibration:
        t0 = time.perf_counter()
        cal = calibration.calibrate(r, docs, self.calibration_key(r))
        log.info(
            "confidence %s (%s) high %.3f medium %.3f in %.1f s: %s",
            cal.key,
            cal.source,
            cal.high,
            cal.medium,
            time.perf_counter() - t0,
            cal.report,
        )
        return cal

    def _mark_dirty(self) -> None:
        if not self._dirty:
            self._dirty, self._dirty_since = True, time.monotonic()

    def dirty_for(self) -> float:
        """Seconds since the first change not yet published (-1 when nothing is pending)."""
        return time.monotonic() - self._dirty_since if self._dirty else -1.0

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

    def refit_due(self) -> bool:
        """The dense channel just completed: confidence should be refitted on it."""
        return self._refit_after_backfill

    def recalibrate(self) -> None:
        """Refit the confidence operating point on the current channels."""
        self._refit_after_backfill = False
        self.calibration = self._calibrate(self.retriever, self.source.load_docs())
        self._mark_dirty()
