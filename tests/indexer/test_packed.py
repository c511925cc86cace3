"""Parity: a lexical index filled from packed chunks (as analysis workers hand them back) is
the index a fill from per-document dictionaries builds, array for array."""

from __future__ import annotations

import numpy as np

from indexer.fields import DocMeta
from indexer.lexical import LexicalIndex
from indexer.packed import join, pack, unpack

DOCS = [
    {"打印机": 2.0, "卡纸": 1.0, "门诊": 0.5},
    {},
    {"医保": 1.0, "打印机": 1.0},
    {"卡纸": 3.0, "his": 1.0, "医保": 0.5},
    {"pacs": 1.0},
    {"门诊": 1.0, "pacs": 2.0, "新词": 1.0},
]
METAS = [DocMeta("HIS", "门诊", "published", ("打印",)) for _ in DOCS]


def _arrays(index: LexicalIndex) -> dict[str, np.ndarray]:
    seg = index.snapshot()
    return {k: np.asarray(v) for k, v in seg.arrays.items()}


def test_packed_chunks_fill_the_same_segment() -> None:
    ids = [10 * i + 1 for i in range(len(DOCS))]
    plain, packed = LexicalIndex(), LexicalIndex()
    plain.fill(ids, DOCS, METAS)
    packed.fill(ids, join([pack(DOCS[:2]), pack(DOCS[2:3]), pack([]), pack(DOCS[3:])]), METAS)
    want, got = _arrays(plain), _arrays(packed)
    assert want.keys() == got.keys()
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert packed.search(["卡纸", "pacs"], 3) == plain.search(["卡纸", "pacs"], 3)


def test_unpack_gives_the_dictionaries_back() -> None:
    assert unpack(join([pack(DOCS[:3]), pack(DOCS[3:])])) == DOCS
    assert len(join([])) == 0
