"""FAISS inner-product index keyed by entry id: flat by default, HNSW past a size, tombstones."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import faiss
import numpy as np

from indexer import vector_files
from indexer.locks import RWLock
from indexer.manifest import Manifest
from indexer.vector_delta import VectorDelta
from indexer.vector_reads import VectorReads

# A fixed efSearch loses recall as the graph grows (bench_ann, 1M × 256: recall@10 0.73 at
# 200, 0.97 at 2,048), so the beam widens by one per this many vectors (100k → 200, 1M → 2,000).
EF_PER_VECTORS = 500
Mode = Literal["flat", "hnsw"]


class VectorIndex(VectorReads):
    """Upsert/remove/search of unit vectors by int64 id, saved atomically with a manifest.

    Rows live in a bare faiss index addressed by position; `_labels[pos]` is the entry id or
    -1 once tombstoned (an update tombstones the old row and appends a new one). Flat mode
    compacts cheaply; HNSW (which cannot delete) is rebuilt from its own stored float vectors
    once tombstones pass `rebuild_ratio`, so no database read is needed to rebuild.
    One writer at a time (the sync loop); searches run concurrently with each other.
    """

    def __init__(
        self,
        dim: int,
        model_id: str,
        *,
        ann_threshold: int,
        hnsw_m: int = 32,
        ef_search: int = 128,
        ef_construction: int = 40,
        rebuild_ratio: float = 0.2,
        search_threads: int = 1,
    ) -> None:
        if dim < 1:
            raise ValueError("a vector index needs dim >= 1 (backend 'none' has no index)")
        self.dim, self.model_id = dim, model_id
        self.ann_threshold, self.hnsw_m = ann_threshold, hnsw_m
        self.ef_search, self.ef_construction = ef_search, ef_construction
        self.ef_per_vectors = EF_PER_VECTORS  # 0: efSearch stays max(ef_search, k)
        self.rebuild_ratio = rebuild_ratio
        self.search_threads = search_threads
        self._lock = RWLock()
        self._writer = threading.RLock()  # held across add → rebuild
        # Set when the base is a memory-mapped saved file: it is read-only (FAISS aborts the
        # process on a write to a viewed vector), so writes land in `_delta` until saved.
        self._mapped_from: Path | None = None
        self._delta: VectorDelta | None = None
        self._install(self._new_index("flat"), np.empty(0, np.int64))

    # -- state ---------------------------------------------------------------------------

    def _new_index(self, mode: Mode) -> faiss.Index:
        if mode == "flat":
            return faiss.IndexFlatIP(self.dim)
        index = faiss.IndexHNSWFlat(self.dim, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        index.hnsw.efSearch = self.ef_search
        return index

    def _install(self, index: Any, labels: np.ndarray) -> None:
        self._index: Any = index  # faiss stubs lack storage/get_xb
        self.mode: Mode = "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"
        self._labels = np.ascontiguousarray(labels, dtype=np.int64)
        live = np.flatnonzero(self._labels >= 0)
        self._pos = dict(zip(self._labels[live].tolist(), live.tolist(), strict=True))
        self._bitmap: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._pos) + (len(self._delta) if self._delta is not None else 0)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._pos or (self._delta is not None and entry_id in self._delta)

    @property
    def mapped(self) -> bool:
        return self._mapped_from is not None

    # -- writes --------------------------------------------------------------------------

    def add(self, ids: Iterable[int] | np.ndarray, vecs: np.ndarray) -> None:
        """Insert or replace vectors; re-adding an id replaces its previous vector."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        if vecs.shape != (len(ids), self.dim):
            raise ValueError(f"vecs shape {vecs.shape} != ({len(ids)}, {self.dim})")
        if len(ids) and ids.min() < 0:
            raise ValueError("ids must be >= 0")
        # A repeated id within one batch: the last occurrence wins, like sequential upserts.
        _, last = np.unique(ids[::-1], return_index=True)
        keep = np.sort(len(ids) - 1 - last)
        ids, vecs = ids[keep], vecs[keep]
        with self._writer:
            if self._delta is not None:
                with self._lock.write():
                    self._kill(ids)
                    self._delta.add(ids, vecs)
                return
            with self._lock.write():
                self._kill(ids)
                start = self._index.ntotal
                self._index.add(vecs)
                self._labels = np.concatenate([self._labels, ids])
                self._pos.update(zip(ids.tolist(), range(start, start + len(ids)), strict=True))
                self._bitmap = None
            self._maybe_rebuild()

    def remove(self, ids: Iterable[int] | np.ndarray) -> int:
        """Remove ids (unknown ones are ignored); returns how many were present."""
        ids = np.asarray(ids, dtype=np.int64).ravel()
        with self._writer:
            with self._lock.write():
                removed = self._kill(ids)
            if self._delta is None:
                self._maybe_rebuild()
        return removed

    def _kill(self, ids: np.ndarray) -> int:
        positions = [p for p in (self._pos.pop(i, None) for i in ids.tolist()) if p is not None]
        self._labels[positions] = -1
        if positions:
            self._bitmap = None
        return len(positions) + (self._delta.kill(ids.tolist()) if self._delta is not None else 0)

    def _merged(self) -> tuple[Any, np.ndarray]:
        """(index, labels) holding the base and the delta; a private copy when mapped."""
        if self._mapped_from is None or self._delta is None:
            return self._index, self._labels
        index = faiss.read_index(str(self._mapped_from))  # owned, so it may grow
        ids, vecs = self._delta.live()
        if len(ids):
            index.add(vecs)
        return index, np.concatenate([self._labels, ids])

    def _target_mode(self) -> Mode:
        # Hysteresis: drop back to flat only well below the threshold.
        limit = self.ann_threshold if self.mode == "flat" else int(self.ann_threshold * 0.8)
        return "hnsw" if len(self._pos) > limit else "flat"

    def _maybe_rebuild(self) -> None:
        """Compact or switch mode; built beside the live index so searches continue meanwhile."""
        target = self._target_mode()
        limit = self.rebuild_ratio * max(1, len(self._labels))
        if target == self.mode and self.tombstones <= limit:
            return
        self.rebuild(mode=target)

    def rebuild(self, *, mode: Mode | None = None) -> None:
        """Rebuild from the live rows, dropping tombstones; searches use the old one meanwhile."""
        with self._writer:
            with self._lock.read():
                live = np.flatnonzero(self._labels >= 0)
                vecs = np.ascontiguousarray(self._vectors()[live])
                labels = self._labels[live]
                if self._delta is not None:
                    more, extra = self._delta.live()
                    vecs, labels = np.concatenate([vecs, extra]), np.concatenate([labels, more])
                    live = labels
            index = self._new_index(mode or self._target_mode())
            if len(live):
                index.add(vecs)
            with self._lock.write():
                self._install(index, labels)
                self._mapped_from, self._delta = None, None

    # -- persistence (indexer/vector_files.py) --------------------------------------------

    def save(self, directory: Path, *, last_seq: int, version: str) -> Manifest:
        """Write a new generation of files, then the manifest that commits it; returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with self._writer:  # no writes while saving; searches continue
            out = self
            if self._delta is not None:  # fold the delta into a private copy, not into self
                out = VectorIndex(
                    self.dim,
                    self.model_id,
                    ann_threshold=self.ann_threshold,
                    hnsw_m=self.hnsw_m,
                    ef_search=self.ef_search,
                    ef_construction=self.ef_construction,
                    rebuild_ratio=self.rebuild_ratio,
                )
                out._install(*self._merged())
                out._maybe_rebuild()
            params = {
                "model_id": self.model_id,
                "dim": self.dim,
                "count": len(out),
                "tombstones": out.tombstones,
                "index_type": out.mode,
                "last_seq": int(last_seq),
            }
            manifest = vector_files.write(directory, out._index, out._labels, params, version)
        vector_files.prune(directory, manifest)
        return manifest

    @classmethod
    def load(
        cls,
        directory: Path,
        *,
        model_id: str,
        dim: int,
        ann_threshold: int,
        mapped: bool = False,
        **options: Any,
    ) -> tuple[VectorIndex, Manifest]:
        """Load a saved index after verifying manifest, checksums and shape (`vector_files.read`:
        IndexMissing / IndexCorrupt, or IndexMismatch for another model, dimension or format)."""
        index, labels, manifest, path = vector_files.read(
            Path(directory), model_id=model_id, dim=dim, mapped=mapped
        )
        obj = cls(dim, model_id, ann_threshold=ann_threshold, **options)
        obj._install(index, labels)
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = obj.ef_search
        if mapped:
            obj._mapped_from, obj._delta = path, VectorDelta(dim)
            return obj, manifest
        with obj._writer:
            obj._maybe_rebuild()
        return obj, manifest
