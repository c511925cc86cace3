"""The lexical index's immutable base: flat arrays, saved as .npy and memory-mapped to read."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.errors import IndexCorrupt
from indexer.manifest import Manifest, atomic_target, commit, open_part, write_atomic
from indexer.terms import encode_sorted

KIND = "lexical"
FORMAT_VERSION = 3  # 3: one .npy per array (memory-mappable), terms sorted by UTF-8 bytes
CODE_FIELDS = ("system", "department", "status")
ARRAYS = (
    "ids",  # int64 [n]: entry id of each slot
    "lens",  # float32 [n]: document length (sum of term weights)
    "doc_indptr",
    "doc_tids",
    "doc_tfs",  # doc-major: each slot's terms and weights
    "post_indptr",
    "post_slots",
    "post_tfs",  # term-major postings (CSR)
    "doc_tag_indptr",
    "doc_tags",
    "tag_indptr",
    "tag_slots",  # tags both ways
    "term_blob",
    "term_offsets",  # sorted terms (indexer.terms)
    *(f"code_{f}" for f in CODE_FIELDS),  # int32 [n] codes into `code_values`
)

Meta = tuple[str, str, str, tuple[str, ...]]  # system, department, status, tags


@dataclass(frozen=True)
class Segment:
    """Every array of one base segment plus the small string tables its codes point into."""

    arrays: dict[str, np.ndarray]
    code_values: dict[str, list[str]]
    tag_names: list[str]

    @property
    def n(self) -> int:
        return len(self.arrays["ids"])

    def doc(self, slot: int) -> tuple[np.ndarray, np.ndarray]:
        a = self.arrays
        lo, hi = int(a["doc_indptr"][slot]), int(a["doc_indptr"][slot + 1])
        return a["doc_tids"][lo:hi], a["doc_tfs"][lo:hi]

    def docs(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Terms and weights of `slots`, concatenated, with each one's term count."""
        a = self.arrays
        starts = a["doc_indptr"][slots]
        counts = a["doc_indptr"][slots + 1] - starts
        take = ranges(starts, counts)
        return np.asarray(a["doc_tids"][take]), np.asarray(a["doc_tfs"][take]), counts

    def meta(self, slot: int) -> Meta:
        a = self.arrays
        lo, hi = int(a["doc_tag_indptr"][slot]), int(a["doc_tag_indptr"][slot + 1])
        codes = [self.code_values[f][int(a[f"code_{f}"][slot])] for f in CODE_FIELDS]
        return codes[0], codes[1], codes[2], tuple(self.tag_names[t] for t in a["doc_tags"][lo:hi])


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated positions start..start+count of every (start, count) pair."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    out: np.ndarray = np.arange(total, dtype=np.int64) + shift
    return out


def _csr(rows: np.ndarray, cols: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and the column order of (row, col) pairs sorted by row, then column."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(rows, minlength=n_rows))
    return indptr, order


def build(
    ids: np.ndarray,
    counts: np.ndarray,
    tids: np.ndarray,
    tfs: np.ndarray,
    term_of: Callable[[int], str],
    metas: Sequence[Meta],
) -> Segment:
    """A segment over documents given doc-major (`counts[i]` terms each, in any term id space)."""
    n = len(ids)
    used = np.unique(tids)
    raw = [term_of(int(t)).encode("utf-8") for t in used]
    order = sorted(range(len(raw)), key=raw.__getitem__)
    remap = np.zeros(int(used.max()) + 1 if len(used) else 1, dtype=np.int32)
    remap[used[order]] = np.arange(len(used), dtype=np.int32)
    new_tids = remap[tids] if len(tids) else np.zeros(0, np.int32)
    blob, offsets = encode_sorted([raw[i].decode("utf-8") for i in order])
    slots = np.repeat(np.arange(n, dtype=np.int32), counts)
    post_indptr, post_order = _csr(new_tids, slots, len(used))
    doc_indptr = np.zeros(n + 1, dtype=np.int64)
    doc_indptr[1:] = np.cumsum(counts)
    tag_names = sorted({t for m in metas for t in m[3]})
    tag_id = {t: i for i, t in enumerate(tag_names)}
    doc_tags = np.array([tag_id[t] for m in metas for t in m[3]], dtype=np.int32)
    tag_counts = np.array([len(m[3]) for m in metas], dtype=np.int64)
    doc_tag_indptr = np.zeros(n + 1, dtype=np.int64)
    doc_tag_indptr[1:] = np.cumsum(tag_counts)
    tag_rows = np.repeat(np.arange(n, dtype=np.int32), tag_counts)
    tag_indptr, tag_order = _csr(doc_tags, tag_rows, len(tag_names))
    arrays = {
        "ids": np.asarray(ids, dtype=np.int64),
        "lens": np.bincount(slots, weights=tfs, minlength=n).astype(np.float32),
        "doc_indptr": doc_indptr,
        "doc_tids": new_tids.astype(np.int32),
        "doc_tfs": np.asarray(tfs, dtype=np.float32),
        "post_indptr": post_indptr,
        "post_slots": slots[post_order],
        "post_tfs": np.asarray(tfs, dtype=np.float32)[post_order],
        "doc_tag_indptr": doc_tag_indptr,
        "doc_tags": doc_tags,
        "tag_indptr": tag_indptr,
        "tag_slots": tag_rows[tag_order],
        "term_blob": blob,
        "term_offsets": offsets,
    }
    values: dict[str, list[str]] = {}
    for i, f in enumerate(CODE_FIELDS):
        index: dict[str, int] = {}
        arrays[f"code_{f}"] = np.array(
            [index.setdefault(str(m[i]), len(index)) for m in metas], dtype=np.int32
        )
        values[f] = list(index)
    return Segment(arrays, values, tag_names)


def empty() -> Segment:
    return build(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0, np.int32),
        np.zeros(0, np.float32),
        str,
        [],
    )


def save(seg: Segment, folder: Path, *, k1: float, b: float, version: str) -> Manifest:
    """Write every array as its own .npy, the string tables, then the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ARRAYS:
        with atomic_target(folder / f"{name}.npy") as tmp, open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(seg.arrays[name]), allow_pickle=False)
    tables = {"code_values": seg.code_values, "tag_names": seg.tag_names}
    write_atomic(folder / "docs.json", json.dumps(tables, ensure_ascii=False).encode("utf-8"))
    return commit(
        folder,
        kind=KIND,
        format_version=FORMAT_VERSION,
        version=version,
        files={"docs": "docs.json", **{name: f"{name}.npy" for name in ARRAYS}},
        params={"k1": k1, "b": b, "count": seg.n},
    )


def _map(path: Path) -> np.ndarray:
    try:
        out: np.ndarray = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:  # numpy cannot map a zero-length array: read it (it is empty)
        out = np.load(path, allow_pickle=False)
    return out


def load(folder: Path, *, k1: float, b: float) -> Segment:
    """A saved segment with its arrays memory-mapped read-only (shared by every process)."""
    manifest, paths = open_part(folder, kind=KIND, format_version=FORMAT_VERSION)
    manifest.expect(k1=k1, b=b)
    try:
        arrays = {name: _map(paths[name]) for name in ARRAYS}
        tables = json.loads(paths["docs"].read_text(encoding="utf-8"))
        seg = Segment(
            arrays,
            {f: [str(v) for v in tables["code_values"][f]] for f in CODE_FIELDS},
            [str(t) for t in tables["tag_names"]],
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorrupt(f"lexical index in {folder} is unreadable: {exc!r}") from exc
    n = seg.n
    if (
        manifest.params.get("count") != n
        or len(arrays["doc_indptr"]) != n + 1
        or any(len(arrays[f"code_{f}"]) != n for f in CODE_FIELDS)
        or len(arrays["post_indptr"]) != len(arrays["term_offsets"])
    ):
        raise IndexCorrupt(f"lexical index in {folder} disagrees with its manifest")
    return seg
