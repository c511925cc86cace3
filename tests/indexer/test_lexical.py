"""BM25 index: parity with a reference implementation, incremental writes, filters, storage."""

from __future__ import annotations

import math
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from indexer.errors import IndexCorrupt, IndexMismatch, IndexMissing
from indexer.fields import DocMeta, Filters
from indexer.lexical import LexicalIndex


def reference_bm25(
    docs: dict[int, Counter[str]], query: list[str], k1: float = 1.2, b: float = 0.75
) -> dict[int, float]:
    """Textbook BM25 (Lucene idf) written the obvious way."""
    n = len(docs)
    avgdl = sum(sum(d.values()) for d in docs.values()) / n
    out = {}
    for doc_id, tf in docs.items():
        dl = sum(tf.values())
        score = 0.0
        for term in set(query):
            df = sum(1 for d in docs.values() if term in d)
            if df == 0 or term not in tf:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * dl / avgdl))
        out[doc_id] = score
    return out


def _random_docs(seed: int, n: int = 60) -> dict[int, Counter[str]]:
    rng = random.Random(seed)
    vocab = [f"t{i}" for i in range(40)]
    return {i: Counter(rng.choices(vocab, k=rng.randint(1, 25))) for i in range(1, n + 1)}


def _assert_parity(index: LexicalIndex, docs: dict[int, Counter[str]], query: list[str]) -> None:
    ref = reference_bm25(docs, query)
    got = dict(index.search(query, k=len(docs)))
    for doc_id, score in ref.items():
        assert got.get(doc_id, 0.0) == pytest.approx(score, rel=1e-4, abs=1e-5)


def test_parity_with_reference_after_adds_updates_deletes_and_compaction() -> None:
    docs = _random_docs(1)
    index = LexicalIndex()
    for doc_id, tf in docs.items():
        index.add(doc_id, tf)
    _assert_parity(index, docs, ["t1", "t2", "t3", "t39"])
    index.compact()
    _assert_parity(index, docs, ["t1", "t5", "t9"])
    # Incremental: update some, delete some, add new ones; the delta segment must agree.
    extra = _random_docs(2, 20)
    for doc_id in (3, 7, 11):
        docs[doc_id] = extra[doc_id]
        index.add(doc_id, extra[doc_id])
    for doc_id in (5, 6):
        del docs[doc_id]
    index.remove([5, 6, 999])
    docs[100] = Counter({"t1": 3, "new": 1})
    index.add(100, docs[100])
    _assert_parity(index, docs, ["t1", "t2", "new"])
    index.compact()
    _assert_parity(index, docs, ["t1", "t2", "new"])
    assert len(index) == len(docs) and 5 not in index


def test_filters_and_tags() -> None:
    index = LexicalIndex()
    index.add(1, {"打印机": 1}, DocMeta("打印机", "收费处", "published", ("卡纸",)))
    index.add(2, {"打印机": 1}, DocMeta("HIS", "收费处", "draft", ()))
    index.add(3, {"打印机": 1}, DocMeta("HIS", "药房", "published", ("卡纸",)))

    def ids(f: Filters) -> set[int]:
        return {d for d, _ in index.search(["打印机"], 10, index.mask(f))}

    assert ids(Filters()) == {1, 3}  # published by default
    assert ids(Filters(status=None)) == {1, 2, 3}
    assert ids(Filters(system="HIS")) == {3}
    assert ids(Filters(department="收费处", status=None)) == {1, 2}
    assert ids(Filters(tag="卡纸")) == {1, 3}
    assert ids(Filters(system="不存在")) == set()
    index.remove([1])
    assert ids(Filters(tag="卡纸")) == {3}


def test_max_score_bounds_every_score() -> None:
    docs = _random_docs(3)
    index = LexicalIndex()
    for doc_id, tf in docs.items():
        index.add(doc_id, tf)
    q = ["t1", "t2", "unknown"]
    assert all(s < index.max_score(q) for _, s in index.search(q, 100))


def test_save_load_roundtrip(tmp_path: Path) -> None:
    docs = _random_docs(4)
    index = LexicalIndex()
    for doc_id, tf in docs.items():
        index.add(doc_id, tf, DocMeta(system="HIS", tags=("a",)))
    index.remove([1])
    manifest = index.save(tmp_path, version="t")
    assert manifest.kind == "lexical" and manifest.params["count"] == len(index) == len(docs) - 1
    loaded = LexicalIndex.load(tmp_path)
    q = ["t3", "t4"]
    assert index.search(q, 10) == loaded.search(q, 10)
    assert loaded.meta(2) == DocMeta(system="HIS", tags=("a",))
    assert np.isclose(loaded.idf("t3"), index.idf("t3"))


def test_load_refuses_missing_damaged_and_other_parameters(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        LexicalIndex.load(tmp_path)
    index = LexicalIndex()
    index.add(1, {"打印机": 1.0})
    index.save(tmp_path, version="t")
    with pytest.raises(IndexMismatch, match="k1"):
        LexicalIndex.load(tmp_path, k1=2.0)
    docs = tmp_path / "docs.json"
    docs.write_bytes(docs.read_bytes()[:-3])
    with pytest.raises(IndexCorrupt, match="checksum"):
        LexicalIndex.load(tmp_path)


def test_bulk_load_gives_the_segment_adds_and_compaction_give() -> None:
    """A rebuild fills the index in one go; it must equal one document at a time."""
    docs = _random_docs(7, 80)
    metas = [
        DocMeta(system=f"s{i % 3}", department=f"d{i % 2}", tags=(f"g{i % 4}",) * (i % 2))
        for i in docs
    ]
    one, bulk = LexicalIndex(), LexicalIndex()
    for (doc_id, tf), meta in zip(docs.items(), metas, strict=True):
        one.add(doc_id, tf, meta)
    one.compact()
    bulk.fill(list(docs), list(docs.values()), metas)
    a, b = one.snapshot(), bulk.snapshot()
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name], err_msg=name)
    assert (a.code_values, a.tag_names) == (b.code_values, b.tag_names)
    _assert_parity(bulk, docs, ["t1", "t2", "t3", "t39"])
    assert (
        bulk.mask(Filters(system="s1", tag="g1")).sum()
        == one.mask(Filters(system="s1", tag="g1")).sum()
    )
    # Not a fresh index: the documents are added the ordinary way.
    bulk.fill([1000], [Counter({"t1": 2})], [DocMeta()])
    assert len(bulk) == len(docs) + 1 and 1000 in bulk


def test_batch_reads_agree_with_per_document_reads_across_base_and_delta() -> None:
    docs = _random_docs(3, 30)
    index = LexicalIndex()
    for doc_id, tf in docs.items():
        index.add(doc_id, tf)
    index.compact()
    docs[200] = Counter({"t1": 2, "fresh": 1})
    index.add(200, docs[200])  # in the delta
    index.remove([4])
    del docs[4]
    ids = [1, 200, 4, 17, 999]  # 4 deleted, 999 never indexed
    terms = ["t1", "fresh", "t7", "absent", "t3"]
    many = index.matched_many(ids, terms)
    for doc_id, got in zip(ids, many, strict=True):
        want = [t for t in terms if t in docs.get(doc_id, {})]
        assert got == index.matched(doc_id, terms) == want
    assert index.slots_of(ids).tolist()[2:] == [-1, index.slot_of(17), -1]
    counts, tids, weights = index.tfidf_rows(ids)
    assert counts.tolist() == [len(index.tfidf(i)) for i in ids]
    rows = np.split(np.arange(len(tids)), np.cumsum(counts)[:-1])
    for doc_id, row in zip(ids, rows, strict=True):
        assert dict(zip(tids[row].tolist(), weights[row].tolist(), strict=True)) == index.tfidf(
            doc_id
        )
