"""BM25 over weighted terms with incremental upsert/delete, filters and a query-relative score."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from indexer.columns import ArrayColumn, CodeColumn
from indexer.errors import IndexCorrupt
from indexer.manifest import Manifest, commit, open_part, write_atomic

KIND = "lexical"
FORMAT_VERSION = 2


@dataclass(frozen=True)
class DocMeta:
    """Filterable fields of an indexed entry."""

    system: str = ""
    department: str = ""
    status: str = "published"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Search filters; None means any."""

    system: str | None = None
    department: str | None = None
    tag: str | None = None
    status: str | None = "published"


_Doc = tuple[int, np.ndarray, np.ndarray, "DocMeta | None"]  # id, term ids, tfs, meta


class LexicalIndex:
    """BM25 (Lucene idf) in two segments: a CSR base plus a small delta rebuilt on demand.

    Writes append a document slot (an update is delete + append); deletes only clear a live
    flag and adjust document frequencies, so no write rebuilds the index. `compact()` folds the
    delta and drops dead slots once they pile up.
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self._reset()

    def _reset(self) -> None:
        self._vocab: dict[str, int] = {}
        self._terms: list[str] = []
        self._df = ArrayColumn(np.int64)
        self._ids: list[int] = []
        self._slot: dict[int, int] = {}
        self._alive = ArrayColumn(np.bool_)
        self._len = ArrayColumn(np.float32)
        self._doc_tids: list[np.ndarray | None] = []
        self._doc_tfs: list[np.ndarray | None] = []
        self._meta: list[DocMeta | None] = []
        self._codes = {name: CodeColumn() for name in ("system", "department", "status")}
        self._tag_slots: dict[str, set[int]] = {}
        self._base: sparse.csr_matrix | None = None
        self._base_n = 0
        self._delta: sparse.csr_matrix | None = None
        self._total_len = 0.0

    # ---- writes -------------------------------------------------------------------------
    def add(self, doc_id: int, tf: Mapping[str, float], meta: DocMeta | None = None) -> None:
        """Insert or replace one document."""
        if doc_id in self._slot:
            self.remove([doc_id])
        meta = meta or DocMeta()
        tids = np.fromiter((self._term_id(t) for t in tf), dtype=np.int32, count=len(tf))
        tfs = np.fromiter(tf.values(), dtype=np.float32, count=len(tf))
        slot = len(self._ids)
        self._ids.append(doc_id)
        self._slot[doc_id] = slot
        self._doc_tids.append(tids)
        self._doc_tfs.append(tfs)
        self._meta.append(meta)
        length = float(tfs.sum())
        self._alive.append(True)
        self._len.append(length)
        for name, col in self._codes.items():
            col.append(getattr(meta, name))
        for tag in meta.tags:
            self._tag_slots.setdefault(tag, set()).add(slot)
        self._df.data[tids] += 1
        self._total_len += length
        self._delta = None

    def remove(self, doc_ids: Iterable[int]) -> None:
        """Delete documents (unknown ids are ignored)."""
        for doc_id in doc_ids:
            slot = self._slot.pop(doc_id, None)
            if slot is None:
                continue
            tids = self._doc_tids[slot]
            assert tids is not None
            self._df.data[tids] -= 1
            self._alive.data[slot] = False
            self._total_len -= float(self._len.data[slot])
            meta = self._meta[slot]
            for tag in meta.tags if meta else ():
                self._tag_slots.get(tag, set()).discard(slot)
            self._doc_tids[slot] = self._doc_tfs[slot] = None
            self._meta[slot] = None

    def needs_compaction(self) -> bool:
        """True once the delta or the dead slots are big enough to slow queries."""
        n = len(self._ids)
        dead = n - len(self._slot)
        delta = n - self._base_n
        return delta > max(2000, n // 10) or dead > max(2000, n // 4)

    def compact(self) -> None:
        """Renumber live documents and terms into one CSR segment."""
        live: list[int] = []
        old_tids: list[np.ndarray] = []
        tfs: list[np.ndarray] = []
        for slot, (t, f) in enumerate(zip(self._doc_tids, self._doc_tfs, strict=True)):
            if t is not None and f is not None:
                live.append(slot)
                old_tids.append(t)
                tfs.append(f)
        used = np.unique(np.concatenate(old_tids)) if old_tids else np.zeros(0, np.int32)
        remap = np.full(len(self._terms), -1, dtype=np.int32)
        remap[used] = np.arange(len(used), dtype=np.int32)
        terms = [self._terms[t] for t in used]
        docs = [
            (self._ids[s], remap[t], f, self._meta[s])
            for s, t, f in zip(live, old_tids, tfs, strict=True)
        ]
        self._load_docs(terms, docs)

    def _load_docs(self, terms: list[str], docs: Sequence[_Doc]) -> None:
        ids = [d[0] for d in docs]
        metas = [d[3] or DocMeta() for d in docs]
        lens = np.array([float(d[2].sum()) for d in docs], dtype=np.float32)
        self._reset()
        self._terms = terms
        self._vocab = {t: i for i, t in enumerate(terms)}
        self._ids = ids
        self._slot = {d: i for i, d in enumerate(ids)}
        self._doc_tids = [d[1].astype(np.int32, copy=False) for d in docs]
        self._doc_tfs = [d[2].astype(np.float32, copy=False) for d in docs]
        self._meta = list(metas)
        self._alive.extend(np.ones(len(ids), dtype=np.bool_))
        self._len.extend(lens)
        for name, col in self._codes.items():
            col.extend([getattr(m, name) for m in metas])
        for slot, m in enumerate(metas):
            for tag in m.tags:
                self._tag_slots.setdefault(tag, set()).add(slot)
        self._total_len = float(lens.sum())
        self._base = self._matrix(0, len(ids))
        self._base_n = len(ids)
        self._df.extend(np.zeros(len(terms), dtype=np.int64))
        if len(terms):
            self._df.data[:] = np.diff(self._base.indptr)

    # ---- reads --------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slot

    @property
    def ids(self) -> list[int]:
        return list(self._slot)

    def meta(self, doc_id: int) -> DocMeta | None:
        slot = self._slot.get(doc_id)
        return None if slot is None else self._meta[slot]

    def idf(self, term: str) -> float:
        """Lucene BM25 idf (never negative); unseen terms get the largest value."""
        tid = self._vocab.get(term)
        df = int(self._df.data[tid]) if tid is not None else 0
        n = len(self._slot)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def has_term(self, term: str) -> bool:
        """Whether a live document contains the term."""
        tid = self._vocab.get(term)
        return tid is not None and int(self._df.data[tid]) > 0

    def max_score(self, terms: Sequence[str]) -> float:
        """Upper bound of a document's score for these terms (tf → ∞)."""
        return sum(self.idf(t) for t in terms) * (self.k1 + 1.0)

    def mask(self, filters: Filters | None = None) -> np.ndarray:
        """Slots that are live and pass the filters."""
        n = len(self._ids)
        m = self._alive.data[:n].copy()
        f = filters or Filters(status=None)
        for name in ("system", "department", "status"):
            value = getattr(f, name)
            if value is not None:
                m &= self._codes[name].equals(value, n)
        if f.tag is not None:
            tagged = np.zeros(n, dtype=np.bool_)
            slots = self._tag_slots.get(f.tag)
            if slots:
                tagged[list(slots)] = True
            m &= tagged
        return m

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every slot (dead slots included; mask them)."""
        n = len(self._ids)
        out = np.zeros(n, dtype=np.float32)
        if not self._slot:
            return out
        avgdl = self._total_len / len(self._slot)
        norm = self.k1 * (1.0 - self.b + self.b * self._len.data[:n] / avgdl)
        for term in dict.fromkeys(terms):
            tid = self._vocab.get(term)
            if tid is None or self._df.data[tid] <= 0:
                continue
            idf = self.idf(term)
            for slots, tfs in self._postings(tid):
                out[slots] += idf * tfs * (self.k1 + 1.0) / (tfs + norm[slots])
        return out

    def search(
        self, terms: Sequence[str], k: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """Top-k (doc id, BM25 score) with score > 0 among masked slots."""
        scores = self.scores(terms)
        scores[~(mask if mask is not None else self.mask())] = 0.0
        return self.top(scores, k)

    def top(self, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Best k positive scores as (doc id, score)."""
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]
        return [(self._ids[s], float(scores[s])) for s in hits]

    def slot_of(self, doc_id: int) -> int | None:
        return self._slot.get(doc_id)

    def matched(self, doc_id: int, terms: Sequence[str]) -> list[str]:
        """Query terms present in a document, in query order."""
        slot = self._slot.get(doc_id)
        tids = self._doc_tids[slot] if slot is not None else None
        if tids is None:
            return []
        have = set(tids.tolist())
        return [t for t in terms if self._vocab.get(t, -1) in have]

    # ---- persistence --------------------------------------------------------------------
    def save(self, folder: Path, *, version: str) -> Manifest:
        """Compact, write postings and document metadata, then the manifest that commits them."""
        self.compact()
        folder.mkdir(parents=True, exist_ok=True)
        tids = [t for t in self._doc_tids if t is not None]
        tfs = [f for f in self._doc_tfs if f is not None]
        offsets = np.zeros(len(tids) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(t) for t in tids])
        buf = io.BytesIO()
        np.savez(
            buf,
            ids=np.array(self._ids, dtype=np.int64),
            offsets=offsets,
            tids=np.concatenate(tids) if tids else np.zeros(0, np.int32),
            tfs=np.concatenate(tfs) if tfs else np.zeros(0, np.float32),
        )
        meta = {
            "terms": self._terms,
            "meta": [
                [m.system, m.department, m.status, list(m.tags)] if m else None for m in self._meta
            ],
        }
        write_atomic(folder / "postings.npz", buf.getvalue())
        write_atomic(folder / "docs.json", json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        return commit(
            folder,
            kind=KIND,
            format_version=FORMAT_VERSION,
            version=version,
            files={"postings": "postings.npz", "docs": "docs.json"},
            params={"k1": self.k1, "b": self.b, "count": len(self)},
        )

    @classmethod
    def load(cls, folder: Path, *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        """An index saved by `save`; IndexStoreError when missing, damaged or built otherwise."""
        manifest, paths = open_part(folder, kind=KIND, format_version=FORMAT_VERSION)
        manifest.expect(k1=k1, b=b)
        index = cls(k1, b)
        try:
            with np.load(paths["postings"], allow_pickle=False) as z:
                ids, offsets, tids, tfs = z["ids"], z["offsets"], z["tids"], z["tfs"]
            meta = json.loads(paths["docs"].read_text(encoding="utf-8"))
            docs: list[_Doc] = []
            for i, doc_id in enumerate(ids.tolist()):
                a, z_ = offsets[i], offsets[i + 1]
                m = meta["meta"][i]
                dm = DocMeta(m[0], m[1], m[2], tuple(m[3])) if m else DocMeta()
                docs.append((int(doc_id), tids[a:z_], tfs[a:z_], dm))
            index._load_docs([str(t) for t in meta["terms"]], docs)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise IndexCorrupt(f"lexical index in {folder} is unreadable: {exc!r}") from exc
        if len(index) != manifest.params.get("count") or len(meta["meta"]) != len(ids):
            raise IndexCorrupt(f"lexical index in {folder} disagrees with its manifest")
        return index

    # ---- internals ----------------------------------------------------------------------
    def _term_id(self, term: str) -> int:
        tid = self._vocab.get(term)
        if tid is None:
            tid = len(self._terms)
            self._vocab[term] = tid
            self._terms.append(term)
            self._df.append(0)
        return tid

    def _matrix(self, start: int, stop: int) -> sparse.csr_matrix:
        """Term × slot CSR of slots [start, stop) (dead slots contribute nothing)."""
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        for slot in range(start, stop):
            tids, tfs = self._doc_tids[slot], self._doc_tfs[slot]
            if tids is None or tfs is None:
                continue
            rows.append(tids)
            cols.append(np.full(len(tids), slot, dtype=np.int32))
            vals.append(tfs)
        shape = (len(self._terms), max(stop, 1))
        if not rows:
            return sparse.csr_matrix(shape, dtype=np.float32)
        coo = sparse.coo_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
        )
        return coo.tocsr()

    def _postings(self, tid: int) -> list[tuple[np.ndarray, np.ndarray]]:
        out = []
        base = self._base
        if base is not None and tid < base.shape[0]:
            a, z = base.indptr[tid], base.indptr[tid + 1]
            if z > a:
                out.append((base.indices[a:z], base.data[a:z]))
        if len(self._ids) > self._base_n:
            if self._delta is None or self._delta.shape[0] < len(self._terms):
                self._delta = self._matrix(self._base_n, len(self._ids))
            d = self._delta
            a, z = d.indptr[tid], d.indptr[tid + 1]
            if z > a:
                out.append((d.indices[a:z], d.data[a:z]))
        return out
