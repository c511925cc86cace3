"""The vector index's read side: stored rows, exact scores and the filtered FAISS search.

`VectorIndex` (indexer/vector.py) inherits this and owns the state and every write.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import faiss
import numpy as np

from indexer.locks import RWLock
from indexer.vector_delta import VectorDelta

# In HNSW mode, filters this small are scanned exactly instead of walking the graph.
EXACT_FILTER_LIMIT = 16_384


class VectorReads:
    """Reads under the shared lock; searches run concurrently with each other."""

    dim: int
    ef_search: int
    ef_per_vectors: int
    search_threads: int
    mode: str
    _lock: RWLock
    _index: Any
    _labels: np.ndarray
    _pos: dict[int, int]
    _bitmap: np.ndarray | None
    _delta: VectorDelta | None

    @property
    def tombstones(self) -> int:
        return len(self._labels) - len(self._pos)

    def ids(self) -> np.ndarray:
        """Live ids (sorted)."""
        with self._lock.read():
            ids = self._labels[self._labels >= 0]
            if self._delta is not None:
                ids = np.concatenate([ids, self._delta.live()[0]])
            return np.sort(ids)

    def _vectors(self) -> np.ndarray:
        """Zero-copy view of every stored row (valid only while no add runs)."""
        n = self._index.ntotal
        if n == 0:
            return np.empty((0, self.dim), np.float32)
        flat: Any = (
            self._index if self.mode == "flat" else faiss.downcast_index(self._index.storage)
        )
        return faiss.rev_swig_ptr(flat.get_xb(), n * self.dim).reshape(n, self.dim)

    def vectors_of(self, ids: Iterable[int]) -> tuple[list[int], np.ndarray]:
        """The stored vectors of those ids that have one (a copy), with their ids."""
        ids = list(ids)
        with self._lock.read():
            have = [i for i in ids if i in self._pos]
            rows = self._vectors()[[self._pos[i] for i in have]] if have else None
            out = rows.copy() if rows is not None else np.empty((0, self.dim), np.float32)
            if self._delta is not None:
                more, extra = self._delta.rows(ids)
                have, out = have + more, np.concatenate([out, extra])
        return have, out

    def _query(self, query_vec: np.ndarray) -> np.ndarray:
        q = np.ascontiguousarray(query_vec, dtype=np.float32).reshape(1, -1)
        if q.shape[1] != self.dim:
            raise ValueError(f"query has dim {q.shape[1]}, index has {self.dim}")
        return q

    def _positions(self, ids: Iterable[int]) -> np.ndarray:
        get = self._pos.get
        found = np.fromiter((get(i, -1) for i in ids), dtype=np.int64)
        return found[found >= 0]

    def search(
        self, query_vec: np.ndarray, k: int, *, allowed: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (id, inner product), best first; `allowed` restricts results to those ids."""
        q = self._query(query_vec)
        if k <= 0:
            return []
        k_all = k
        # Per calling thread (OpenMP ICVs are thread-local): one query is too small to split,
        # and on a busy 2-core host idle OpenMP threads spinning made flat search 16x slower.
        faiss.omp_set_num_threads(self.search_threads)
        with self._lock.read():
            index = self._index
            if allowed is not None:
                positions = self._positions(allowed)
                k = min(k, len(positions))
                bitmap = self._bitmap_of(positions)
                # A narrow filter starves HNSW's graph walk; scan the stored vectors exactly
                # (the selector skips non-members, so this costs ~1 bit test per row).
                if self.mode == "hnsw" and len(positions) <= max(
                    EXACT_FILTER_LIMIT, index.ntotal // 8
                ):
                    index = faiss.downcast_index(index.storage)
            elif self.tombstones:
                if self._bitmap is None:
                    self._bitmap = self._bitmap_of(np.flatnonzero(self._labels >= 0))
                bitmap = self._bitmap
            else:
                bitmap = None
            k = min(k, len(self._pos))
            if k <= 0:
                return self._delta.search(q[0], k_all, allowed) if self._delta is not None else []
            # `sel` borrows `bitmap`'s buffer: both stay referenced here until search returns.
            sel = None
            if bitmap is not None:
                sel = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
            dist, pos = index.search(q, k, params=self._params(index, sel, k))
            found = pos[0] >= 0
            labels = self._labels[pos[0][found]]
            live = labels >= 0
            hits = list(zip(labels[live].tolist(), dist[0][found][live].tolist(), strict=True))
            if self._delta is not None and len(self._delta):
                hits += self._delta.search(q[0], k_all, allowed)
                hits = sorted(hits, key=lambda h: (-h[1], h[0]))[:k_all]
            return hits

    def score(self, query_vec: np.ndarray, ids: Iterable[int]) -> dict[int, float]:
        """Exact inner products for the given ids (unknown ids are left out)."""
        q = self._query(query_vec)
        with self._lock.read():
            ids = list(ids)
            positions = self._positions(ids)
            scores = self._vectors()[positions] @ q[0]
            out = dict(zip(self._labels[positions].tolist(), scores.tolist(), strict=True))
            if self._delta is not None:
                have, rows = self._delta.rows(ids)
                out.update(zip(have, (rows @ q[0]).tolist(), strict=True))
            return out

    def _bitmap_of(self, positions: np.ndarray) -> np.ndarray:
        mask = np.zeros(self._index.ntotal, dtype=bool)
        mask[positions] = True
        return np.packbits(mask, bitorder="little")

    def effective_ef(self, k: int, ntotal: int) -> int:
        """The HNSW beam width of a top-k search over `ntotal` vectors."""
        grown = ntotal // self.ef_per_vectors if self.ef_per_vectors > 0 else 0
        return max(self.ef_search, k, grown)

    def _params(self, index: Any, sel: Any, k: int) -> Any:
        if isinstance(index, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            params.efSearch = self.effective_ef(k, index.ntotal)
        elif sel is None:
            return None
        else:
            params = faiss.SearchParameters()
        if sel is not None:
            params.sel = sel
        return params
