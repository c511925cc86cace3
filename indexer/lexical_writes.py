"""The lexical index's write side: add, fill, remove, and folding the delta into a new base.

`LexicalIndex` (indexer/lexical.py) inherits this and owns the state and every read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from indexer import segment
from indexer.columns import ArrayColumn, CodeColumn
from indexer.fields import DocMeta
from indexer.lexical_delta import Delta
from indexer.packed import Packed, pack, unpack
from indexer.segment import Segment
from indexer.terms import TermTable


class LexicalWrites:
    """Writes to the delta and live flags; the state is set up by `LexicalIndex._install`."""

    _seg: Segment
    _base_n: int
    _terms: TermTable
    _df: ArrayColumn
    _ids: ArrayColumn
    _slot: dict[int, int]
    _alive: ArrayColumn
    _len: ArrayColumn
    _codes: dict[str, CodeColumn]
    _delta: Delta
    _total_len: float

    if TYPE_CHECKING:  # defined by LexicalIndex

        def _install(self, seg: Segment) -> None: ...

        def _doc(self, slot: int) -> tuple[np.ndarray, np.ndarray]: ...

        def _meta_at(self, slot: int) -> DocMeta: ...

    def add(self, doc_id: int, tf: Mapping[str, float], meta: DocMeta | None = None) -> None:
        """Insert or replace one document."""
        if doc_id in self._slot:
            self.remove([doc_id])
        meta = meta or DocMeta()
        tids = np.fromiter((self._terms.add(t) for t in tf), dtype=np.int32, count=len(tf))
        tfs = np.fromiter(tf.values(), dtype=np.float32, count=len(tf))
        if len(self._terms) > len(self._df):
            self._df.extend(np.zeros(len(self._terms) - len(self._df), dtype=np.int64))
        slot = len(self._ids)
        self._ids.append(doc_id)
        self._slot[doc_id] = slot
        self._delta.add(tids, tfs, meta)
        length = float(tfs.sum())
        self._alive.append(True)
        self._len.append(length)
        for name, col in self._codes.items():
            col.append(getattr(meta, name))
        self._df.data[tids] += 1
        self._total_len += length

    def fill(
        self,
        doc_ids: Sequence[int],
        terms: Sequence[Mapping[str, float]] | Packed,
        metas: Sequence[DocMeta],
    ) -> None:
        """Fill an empty index at once (a rebuild): the base segment `add` for each document
        and `compact` would give, without growing a delta first."""
        if len(self._ids) or len(set(doc_ids)) != len(doc_ids):  # not a fresh fill: add them
            dicts = unpack(terms) if isinstance(terms, Packed) else terms
            for doc_id, tf, meta in zip(doc_ids, dicts, metas, strict=True):
                self.add(doc_id, tf, meta)
            self.compact()
            return
        packed = terms if isinstance(terms, Packed) else pack(terms)
        seg = segment.build(
            np.asarray(doc_ids, dtype=np.int64),
            packed.counts,
            packed.tids,
            packed.tfs,
            packed.vocab.__getitem__,
            [(m.system, m.department, m.status, tuple(m.tags)) for m in metas],
        )
        self._install(seg)

    def remove(self, doc_ids: Iterable[int]) -> None:
        """Delete documents (unknown ids are ignored)."""
        for doc_id in doc_ids:
            slot = self._slot.pop(doc_id, None)
            if slot is None:
                continue
            tids, _ = self._doc(slot)
            self._df.data[tids] -= 1
            self._alive.data[slot] = False
            self._total_len -= float(self._len.data[slot])
            if slot >= self._base_n:
                self._delta.remove(slot)

    def needs_compaction(self) -> bool:
        """True once the delta or the dead slots are big enough to slow queries."""
        n = len(self._ids)
        dead = n - len(self._slot)
        delta = n - self._base_n
        return delta > max(2000, n // 10) or dead > max(2000, n // 4)

    def compact(self) -> None:
        """Renumber live documents and terms into one base segment (in memory)."""
        self._install(self.snapshot())

    def snapshot(self) -> Segment:
        """The live documents as a new base segment (reads only: searches may run meanwhile)."""
        live = np.flatnonzero(self._alive.data)
        base = live[live < self._base_n]
        tids, tfs, counts = self._seg.docs(base)
        extra = [self._delta.doc(s) for s in live[live >= self._base_n].tolist()]
        tids = np.concatenate([tids, *(d[0] for d in extra)])
        tfs = np.concatenate([tfs, *(d[1] for d in extra)])
        counts = np.concatenate([counts, [len(d[0]) for d in extra]]).astype(np.int64)
        metas = [self._meta_at(int(s)) for s in live]
        return segment.build(
            self._ids.data[live].copy(),
            counts,
            tids,
            tfs,
            self._terms.term,
            [(m.system, m.department, m.status, m.tags) for m in metas],
        )
