"""Storage helpers for the lexical index: growable columns and the on-disk format."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from indexer.manifest import write_atomic

if TYPE_CHECKING:
    from indexer.lexical import LexicalIndex

FORMAT = 1


class ArrayColumn:
    """A numpy array that grows by doubling (amortised O(1) append)."""

    def __init__(self, dtype: Any) -> None:
        self._buf = np.zeros(16, dtype=dtype)
        self._n = 0

    def _reserve(self, n: int) -> None:
        if n > len(self._buf):
            buf = np.zeros(max(n, 2 * len(self._buf)), dtype=self._buf.dtype)
            buf[: self._n] = self._buf[: self._n]
            self._buf = buf

    def append(self, value: Any) -> None:
        self._reserve(self._n + 1)
        self._buf[self._n] = value
        self._n += 1

    def extend(self, values: np.ndarray) -> None:
        self._reserve(self._n + len(values))
        self._buf[self._n : self._n + len(values)] = values
        self._n += len(values)

    @property
    def data(self) -> np.ndarray:
        """View of the filled part."""
        return self._buf[: self._n]

    def __len__(self) -> int:
        return self._n


class CodeColumn:
    """String values stored as integer codes so filters are one vector comparison."""

    def __init__(self) -> None:
        self.codes = ArrayColumn(np.int32)
        self._index: dict[str, int] = {}

    def _code(self, value: str) -> int:
        return self._index.setdefault(value, len(self._index))

    def append(self, value: str) -> None:
        self.codes.append(self._code(value))

    def extend(self, values: list[str]) -> None:
        self.codes.extend(np.array([self._code(v) for v in values], dtype=np.int32))

    def equals(self, value: str, n: int) -> np.ndarray:
        code = self._index.get(value)
        if code is None:
            return np.zeros(n, dtype=np.bool_)
        return self.codes.data[:n] == code


def dump(index: LexicalIndex, folder: Path) -> dict[str, Any]:
    """Write the live documents of `index` into `folder`; returns {file: sha256} and count."""
    index.compact()
    folder.mkdir(parents=True, exist_ok=True)
    tids = index._doc_tids  # noqa: SLF001 - the store is the index's own persistence
    tfs = index._doc_tfs  # noqa: SLF001
    offsets = np.zeros(len(tids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in tids if t is not None])
    buf = io.BytesIO()
    np.savez(
        buf,
        ids=np.array(index._ids, dtype=np.int64),  # noqa: SLF001
        offsets=offsets,
        tids=np.concatenate(tids) if tids else np.zeros(0, np.int32),
        tfs=np.concatenate(tfs) if tfs else np.zeros(0, np.float32),
    )
    meta = {
        "format": FORMAT,
        "terms": index._terms,  # noqa: SLF001
        "meta": [
            [m.system, m.department, m.status, list(m.tags)] if m else None for m in index._meta
        ],  # noqa: SLF001
    }
    files = {
        "postings.npz": buf.getvalue(),
        "docs.json": json.dumps(meta, ensure_ascii=False).encode("utf-8"),
    }
    sums = {}
    for name, data in files.items():
        write_atomic(folder / name, data)
        sums[name] = hashlib.sha256(data).hexdigest()
    return {"files": sums, "count": len(index)}


def load(index: LexicalIndex, folder: Path) -> None:
    """Fill an empty `index` from `folder` (raises ValueError/OSError/KeyError on bad files)."""
    from indexer.lexical import DocMeta

    with np.load(folder / "postings.npz", allow_pickle=False) as z:
        ids, offsets, tids, tfs = z["ids"], z["offsets"], z["tids"], z["tfs"]
    meta = json.loads((folder / "docs.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT or len(meta["meta"]) != len(ids):
        raise ValueError("lexical index format mismatch")
    docs = []
    for i, doc_id in enumerate(ids.tolist()):
        a, z_ = offsets[i], offsets[i + 1]
        m = meta["meta"][i]
        dm = DocMeta(m[0], m[1], m[2], tuple(m[3])) if m else DocMeta()
        docs.append((int(doc_id), tids[a:z_], tfs[a:z_], dm))
    index._load_docs(list(meta["terms"]), docs)  # noqa: SLF001
