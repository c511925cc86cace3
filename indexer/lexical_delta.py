"""The lexical index's in-memory delta: documents written since its base segment."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from indexer.fields import DocMeta


class Delta:
    """Slots `base_n + i`: each document's term ids and weights, its metadata, tag members,
    and a term-major CSR of them all built on the first query after a write."""

    def __init__(self, base_n: int) -> None:
        self.base_n = base_n
        self.tids: list[np.ndarray | None] = []
        self.tfs: list[np.ndarray | None] = []
        self.meta: list[DocMeta | None] = []
        self.tag_slots: dict[str, set[int]] = {}
        self._matrix: sparse.csr_matrix | None = None

    def add(self, tids: np.ndarray, tfs: np.ndarray, meta: DocMeta) -> None:
        slot = self.base_n + len(self.tids)
        self.tids.append(tids)
        self.tfs.append(tfs)
        self.meta.append(meta)
        for tag in meta.tags:
            self.tag_slots.setdefault(tag, set()).add(slot)
        self._matrix = None

    def remove(self, slot: int) -> None:
        i = slot - self.base_n
        meta = self.meta[i]
        for tag in meta.tags if meta else ():
            self.tag_slots.get(tag, set()).discard(slot)
        self.tids[i] = self.tfs[i] = self.meta[i] = None
        self._matrix = None

    def doc(self, slot: int) -> tuple[np.ndarray, np.ndarray, DocMeta]:
        i = slot - self.base_n
        tids, tfs, meta = self.tids[i], self.tfs[i], self.meta[i]
        assert tids is not None and tfs is not None and meta is not None
        return tids, tfs, meta

    def postings(self, tid: int, n_terms: int, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
        """(slots, weights) of one term among the delta's live documents."""
        if self._matrix is None or self._matrix.shape != (n_terms, n_slots):
            self._matrix = self._build(n_terms, n_slots)
        d = self._matrix
        lo, hi = d.indptr[tid], d.indptr[tid + 1]
        return d.indices[lo:hi], d.data[lo:hi]

    def _build(self, n_terms: int, n_slots: int) -> sparse.csr_matrix:
        live = [i for i, t in enumerate(self.tids) if t is not None]
        shape = (n_terms, max(n_slots, 1))
        if not live:
            return sparse.csr_matrix(shape, dtype=np.float32)
        rows = [t for t in self.tids if t is not None]
        vals = [f for f in self.tfs if f is not None]
        cols = np.repeat(np.array(live) + self.base_n, [len(t) for t in rows])
        coo = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), cols)), shape=shape)
        return coo.tocsr()
