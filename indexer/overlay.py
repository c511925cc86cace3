"""A vector index seen with a few vectors replaced, without touching the shared index.

Calibration asks each linked ticket as a query with its entry re-embedded from the entry's
own text (leave-one-out for the dense channels too); the live index keeps serving meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from indexer.vector import VectorIndex


class Overlay:
    """`search` and `score` of a VectorIndex with `replace`d vectors taking precedence."""

    def __init__(self, base: VectorIndex) -> None:
        self.base = base
        self.model_id, self.dim = base.model_id, base.dim
        self.swapped: dict[int, np.ndarray] = {}
        self.hidden: set[int] = set()

    def __len__(self) -> int:
        return len(self.base)

    def replace(self, doc: int, vec: np.ndarray) -> None:
        self.swapped[doc] = np.asarray(vec, dtype=np.float32)

    def hide(self, doc: int) -> None:
        """Leave `doc` out, as if it were not indexed (a near-miss probe)."""
        self.hidden.add(doc)

    def clear(self) -> None:
        self.swapped.clear()
        self.hidden.clear()

    def _own(self, query_vec: np.ndarray) -> dict[int, float]:
        q = np.asarray(query_vec, dtype=np.float32).reshape(-1)
        return {doc: float(v @ q) for doc, v in self.swapped.items()}

    def search(self, query_vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top-k (id, inner product), the replaced vectors scored afresh."""
        own = self._own(query_vec)
        skip = own.keys() | self.hidden
        extra = len(skip)
        found = [(d, s) for d, s in self.base.search(query_vec, k + extra) if d not in skip]
        found += [(d, s) for d, s in own.items() if d in self.base and d not in self.hidden]
        found.sort(key=lambda x: -x[1])
        return found[:k]

    def score(self, query_vec: np.ndarray, ids: Iterable[int]) -> dict[int, float]:
        ids = [d for d in ids if d not in self.hidden]
        own = self._own(query_vec)
        out = self.base.score(query_vec, [d for d in ids if d not in own])
        out.update({d: s for d, s in own.items() if d in ids and d in self.base})
        return out
