"""VectorIndex on real FAISS: upsert/remove/search, filters, HNSW tombstones, persistence."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from indexer import vector_reads
from indexer.errors import IndexCorrupt, IndexMismatch, IndexMissing
from indexer.vector import VectorIndex

DIM = 16


def unit(n: int, seed: int = 0) -> np.ndarray:
    vecs = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def brute_force(vecs: np.ndarray, ids: np.ndarray, q: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-(vecs @ q), kind="stable")[:k]
    return ids[order].tolist()


# Every behaviour runs on both layouts: flat, and HNSW forced by a tiny threshold.
@pytest.fixture(params=["flat", "hnsw"])
def make(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    threshold = 200_000 if request.param == "flat" else 50

    def _make(**kw: object) -> VectorIndex:
        return VectorIndex(DIM, "test-model", ann_threshold=threshold, **kw)  # type: ignore[arg-type]

    return _make


def test_add_search_update_remove(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs = unit(300)
    ids = np.arange(1000, 1300, dtype=np.int64)
    index.add(ids, vecs)
    assert len(index) == 300 and 1000 in index
    hits = index.search(vecs[7], 5)
    assert hits[0][0] == 1007 and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    # Re-adding an id replaces its vector: the old one can no longer be found.
    index.add([1007], -vecs[7:8])
    assert len(index) == 300
    assert all(i != 1007 for i, _ in index.search(vecs[7], 10))
    assert index.search(-vecs[7], 1)[0][0] == 1007
    assert index.remove([1007, 999_999]) == 1
    assert 1007 not in index and len(index) == 299
    assert all(i != 1007 for i, _ in index.search(-vecs[7], 10))


def test_matches_brute_force(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs, ids = unit(400, seed=1), np.arange(400, dtype=np.int64) * 3
    index.add(ids, vecs)
    for q in unit(10, seed=2):
        got = [i for i, _ in index.search(q, 5)]
        want = brute_force(vecs, ids, q, 5)
        # HNSW is approximate; on 400 points with efSearch 64 it should be near-exact.
        assert len(set(got) & set(want)) >= (5 if index.mode == "flat" else 4)


def test_filtered_search(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs, ids = unit(300, seed=3), np.arange(300, dtype=np.int64)
    index.add(ids, vecs)
    allowed = {5, 17, 250, 9999}
    hits = index.search(vecs[0], 10, allowed=allowed)
    assert {i for i, _ in hits} == {5, 17, 250}
    assert index.search(vecs[0], 3, allowed=set()) == []
    wide = set(range(0, 300, 2))
    hits = index.search(vecs[4], 5, allowed=wide)
    assert hits[0][0] == 4 and all(i % 2 == 0 for i, _ in hits)


def test_wide_filter_walks_the_hnsw_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lower the exact-scan cut-off so this small index takes the filtered-graph path.
    monkeypatch.setattr(vector_reads, "EXACT_FILTER_LIMIT", 10)
    index = VectorIndex(DIM, "m", ann_threshold=50)
    vecs = unit(400, seed=9)
    index.add(np.arange(400), vecs)
    assert index.mode == "hnsw"
    wide = set(range(0, 400, 2))
    hits = index.search(vecs[8], 5, allowed=wide)
    assert hits[0][0] == 8 and len(hits) == 5 and all(i % 2 == 0 for i, _ in hits)
    assert index.search(vecs[9], 5, allowed=wide)[0][0] != 9


def test_score_gives_exact_inner_products(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs = unit(100, seed=4)
    index.add(np.arange(100), vecs)
    scores = index.score(vecs[0], [0, 1, 500])
    assert set(scores) == {0, 1}
    assert scores[1] == pytest.approx(float(vecs[0] @ vecs[1]), abs=1e-5)


def test_empty_index_and_bad_input(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    assert index.search(unit(1)[0], 5) == []
    with pytest.raises(ValueError):
        index.add([1], unit(2))
    with pytest.raises(ValueError):
        index.add([-1], unit(1))
    with pytest.raises(ValueError):
        index.search(np.ones(DIM + 1, np.float32), 3)
    with pytest.raises(ValueError):
        VectorIndex(0, "none", ann_threshold=1000)


def test_duplicate_ids_in_one_batch_keep_the_last(make) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs = unit(3, seed=5)
    index.add([7, 8, 7], vecs)
    assert len(index) == 2
    assert index.search(vecs[2], 1)[0][0] == 7
    assert index.score(vecs[2], [7])[7] == pytest.approx(1.0, abs=1e-5)


def test_hnsw_switch_tombstones_and_rebuild() -> None:
    index = VectorIndex(DIM, "m", ann_threshold=100, rebuild_ratio=0.2)
    vecs = unit(200, seed=6)
    index.add(np.arange(50), vecs[:50])
    assert index.mode == "flat"
    index.add(np.arange(50, 200), vecs[50:])
    assert index.mode == "hnsw" and len(index) == 200 and index.tombstones == 0
    index.remove(range(30))  # 15 % tombstoned: kept and filtered at search time
    assert index.tombstones == 30
    for i in range(30):
        assert all(hit != i for hit, _ in index.search(vecs[i], 5))
    assert index.search(vecs[150], 1)[0][0] == 150
    index.remove(range(30, 50))  # 25 % > 20 %: rebuilt without the dead rows
    assert index.tombstones == 0 and len(index) == 150 and index.mode == "hnsw"
    assert index.search(vecs[150], 1)[0][0] == 150
    index.remove(range(50, 150))  # well below the threshold: back to exact flat search
    assert index.mode == "flat" and len(index) == 50
    assert index.search(vecs[199], 1)[0][0] == 199


def test_persistence_round_trip(make, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    index = make()
    vecs = unit(120, seed=7)
    index.add(np.arange(120), vecs)
    index.remove([3])
    manifest = index.save(tmp_path, last_seq=42, version="t")
    loaded, saved = VectorIndex.load(tmp_path, model_id="test-model", dim=DIM, ann_threshold=1000)
    assert saved == manifest
    assert saved.params["last_seq"] == 42 and saved.params["count"] == 119
    assert saved.kind == "vector" and saved.library_version == "t"
    assert saved.params["index_type"] == index.mode and saved.params["faiss_version"]
    assert len(loaded) == 119 and 3 not in loaded
    assert loaded.search(vecs[9], 3) == index.search(vecs[9], 3)
    # A second save replaces the files of the first instead of accumulating them.
    index.save(tmp_path, last_seq=43, version="t")
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".faiss", ".json", ".npy"]


def test_manifest_is_readable_json_with_checksums(tmp_path: Path) -> None:
    index = VectorIndex(DIM, "sbert:中文模型@abc", ann_threshold=1000)
    index.add([1], unit(1))
    index.save(tmp_path, last_seq=1, version="t")
    text = (tmp_path / "manifest.json").read_text(encoding="utf-8")
    assert "中文模型" in text  # ensure_ascii=False
    files = json.loads(text)["files"]
    assert len(files["index"]["sha256"]) == 64 and len(files["ids"]["sha256"]) == 64


def test_missing_corrupt_and_mismatched(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM, ann_threshold=1000)
    index = VectorIndex(DIM, "m", ann_threshold=1000)
    index.add(np.arange(10), unit(10))
    manifest = index.save(tmp_path, last_seq=5, version="t")
    with pytest.raises(IndexMismatch, match="model_id"):
        VectorIndex.load(tmp_path, model_id="other", dim=DIM, ann_threshold=1000)
    with pytest.raises(IndexMismatch, match="dim"):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM * 2, ann_threshold=1000)
    faiss_file = tmp_path / manifest.files["index"].name
    good = faiss_file.read_bytes()
    faiss_file.write_bytes(good[: len(good) // 2])
    with pytest.raises(IndexCorrupt, match="checksum"):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM, ann_threshold=1000)
    faiss_file.unlink()
    with pytest.raises(IndexCorrupt, match="missing"):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM, ann_threshold=1000)
    (tmp_path / "manifest.json").write_text("{", encoding="utf-8")
    with pytest.raises(IndexCorrupt):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM, ann_threshold=1000)


def test_garbage_with_a_matching_checksum_is_still_corrupt(tmp_path: Path) -> None:
    index = VectorIndex(DIM, "m", ann_threshold=1000)
    index.add(np.arange(10), unit(10))
    manifest = index.save(tmp_path, last_seq=5, version="t")
    faiss_file = tmp_path / manifest.files["index"].name
    faiss_file.write_bytes(b"not a faiss index")
    data = manifest.to_json()
    data["files"]["index"]["sha256"] = hashlib.sha256(b"not a faiss index").hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="unreadable"):
        VectorIndex.load(tmp_path, model_id="m", dim=DIM, ann_threshold=1000)


def test_searches_run_safely_during_writes_and_rebuilds() -> None:
    index = VectorIndex(DIM, "m", ann_threshold=150)
    vecs = unit(400, seed=8)
    index.add(np.arange(100), vecs[:100])
    errors: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        try:
            while not done.is_set():
                for i, _ in index.search(vecs[0], 5):
                    assert 0 <= i < 400
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    readers = [threading.Thread(target=search) for _ in range(3)]
    for t in readers:
        t.start()
    for start in range(100, 400, 20):  # crosses the HNSW threshold and rebuilds on the way
        index.add(np.arange(start, start + 20), vecs[start : start + 20])
        index.remove(np.arange(start - 100, start - 90))
    done.set()
    for t in readers:
        t.join()
    assert not errors
    assert len(index) == 400 - 150


@pytest.mark.parametrize("threshold", [10_000, 50])  # flat and HNSW bases
def test_a_mapped_index_takes_writes_in_a_delta_and_saves_them(
    tmp_path: Path, threshold: int
) -> None:
    vecs, ids = unit(200), np.arange(1, 201)
    built = VectorIndex(DIM, "m", ann_threshold=threshold)
    built.add(ids, vecs)
    built.save(tmp_path / "a", last_seq=1, version="t")
    mapped, _ = VectorIndex.load(
        tmp_path / "a", model_id="m", dim=DIM, ann_threshold=threshold, mapped=True
    )
    assert mapped.mapped and len(mapped) == 200
    # An update and an insert land in the delta; a delete hides a base row.
    new = unit(2, seed=9)
    mapped.add([5, 500], new)
    mapped.remove([7])
    assert len(mapped) == 200 and 7 not in mapped and 500 in mapped
    assert mapped.search(new[1], 1)[0][0] == 500
    assert mapped.search(new[0], 1)[0][0] == 5
    assert 7 not in [d for d, _ in mapped.search(vecs[6], 10)]
    assert mapped.score(new[0], [5, 500, 7]).keys() == {5, 500}
    assert mapped.search(new[1], 3, allowed={1, 2, 500})[0][0] == 500
    # Saving folds the delta into a new file; the mapped base is left as it was.
    mapped.save(tmp_path / "b", last_seq=2, version="t")
    again, _ = VectorIndex.load(tmp_path / "b", model_id="m", dim=DIM, ann_threshold=threshold)
    assert sorted(again.ids().tolist()) == [*(i for i in range(1, 201) if i != 7), 500]
    assert 7 not in again
    assert again.search(new[1], 1)[0][0] == 500
    first, _ = VectorIndex.load(tmp_path / "a", model_id="m", dim=DIM, ann_threshold=threshold)
    assert len(first) == 200 and 7 in first


def test_hnsw_beam_widens_with_the_graph() -> None:
    # A fixed efSearch lost recall at 1M (bench_ann: 0.73 at 200); the beam grows with size.
    index = VectorIndex(DIM, "m", ann_threshold=1000)
    assert index.effective_ef(200, 100_000) == 200
    assert index.effective_ef(10, 1_000_000) == 2000
    assert index.effective_ef(10, 5_000) == 128
    index.ef_per_vectors = 0
    assert index.effective_ef(10, 1_000_000) == 128
