"""Vectors written since a memory-mapped (read-only) FAISS base: a small exact segment."""

from __future__ import annotations

from collections.abc import Collection, Iterable

import numpy as np


class VectorDelta:
    """Unit vectors by id, searched exactly with numpy (it stays small: the writer folds it
    into the next published generation)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vecs = np.zeros((0, dim), dtype=np.float32)
        self._labels = np.zeros(0, dtype=np.int64)
        self._pos: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._pos)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._pos

    def add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        """Append rows (the caller has killed earlier rows of the same ids)."""
        start = len(self._labels)
        self._vecs = np.concatenate([self._vecs, vecs.astype(np.float32, copy=False)])
        self._labels = np.concatenate([self._labels, ids])
        self._pos.update(zip(ids.tolist(), range(start, start + len(ids)), strict=True))

    def kill(self, ids: Iterable[int]) -> int:
        positions = [p for p in (self._pos.pop(i, None) for i in ids) if p is not None]
        self._labels[positions] = -1
        return len(positions)

    def live(self) -> tuple[np.ndarray, np.ndarray]:
        """Live (ids, vectors), a copy."""
        keep = self._labels >= 0
        return self._labels[keep].copy(), self._vecs[keep].copy()

    def rows(self, ids: Iterable[int]) -> tuple[list[int], np.ndarray]:
        have = [i for i in ids if i in self._pos]
        return have, self._vecs[[self._pos[i] for i in have]]

    def search(
        self, q: np.ndarray, k: int, allowed: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """Exact top-k (id, inner product) among live rows (and `allowed`, when given)."""
        if not self._pos or k <= 0:
            return []
        scores = self._vecs @ q
        keep = self._labels >= 0
        if allowed is not None:
            keep &= np.isin(self._labels, np.fromiter(allowed, dtype=np.int64))
        rows = np.flatnonzero(keep)
        rows = rows[np.argsort(-scores[rows], kind="stable")[:k]]
        return [(int(self._labels[r]), float(scores[r])) for r in rows]
