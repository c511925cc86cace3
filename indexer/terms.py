"""Term ↔ id for the lexical index: a sorted, memory-mappable base plus terms added since."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FOUND_CACHE = 50_000  # base terms remembered per process (~5 MB), then forgotten at once


def encode_sorted(terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 blob and offsets of `terms`, which must be sorted by their UTF-8 bytes."""
    raw = [t.encode("utf-8") for t in terms]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    if raw:
        offsets[1:] = np.cumsum([len(b) for b in raw])
    blob = np.frombuffer(b"".join(raw), dtype=np.uint8) if raw else np.zeros(0, np.uint8)
    return blob, offsets


class TermTable:
    """Ids 0..n_base-1 are the base's sorted terms (found by binary search over a blob that
    may be memory-mapped, so N processes share one copy); later terms get the next ids."""

    def __init__(self, blob: np.ndarray | None = None, offsets: np.ndarray | None = None) -> None:
        self._blob = blob if blob is not None else np.zeros(0, np.uint8)
        self._off = offsets if offsets is not None else np.zeros(1, np.int64)
        self.n_base = len(self._off) - 1
        # Plain views of the mapped arrays: slicing a memoryview costs a fraction of a memmap's.
        self._mv = np.ascontiguousarray(self._blob, dtype=np.uint8).data
        self._offs = np.ascontiguousarray(self._off, dtype=np.int64).data
        self._extra: dict[str, int] = {}
        self._extra_terms: list[str] = []
        self._found: dict[str, int | None] = {}  # base lookups, bounded (queries repeat terms)

    def __len__(self) -> int:
        return self.n_base + len(self._extra_terms)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The base's blob and offsets (what a segment saves)."""
        return self._blob, self._off

    def _base_bytes(self, tid: int) -> bytes:
        return self._mv[self._offs[tid] : self._offs[tid + 1]].tobytes()

    def get(self, term: str) -> int | None:
        """Id of a known term, else None."""
        try:
            tid = self._found[term]
        except KeyError:
            tid = self._search(term)
            if len(self._found) >= FOUND_CACHE:
                self._found.clear()
            self._found[term] = tid
        return tid if tid is not None else self._extra.get(term)

    def _search(self, term: str) -> int | None:
        key = term.encode("utf-8")
        lo, hi = 0, self.n_base
        while lo < hi:
            mid = (lo + hi) // 2
            if self._base_bytes(mid) < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < self.n_base and self._base_bytes(lo) == key:
            return lo
        return None

    def add(self, term: str) -> int:
        """Id of `term`, assigning the next one when it is new."""
        tid = self.get(term)
        if tid is None:
            tid = len(self)
            self._extra[term] = tid
            self._extra_terms.append(term)
        return tid

    def term(self, tid: int) -> str:
        if tid < self.n_base:
            return self._base_bytes(tid).decode("utf-8")
        return self._extra_terms[tid - self.n_base]
