"""A saved generation: every part under the one manifest schema, damage and drift refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.lsa import LsaEmbedder
from indexer import store
from indexer.analyzer import Analyzer
from indexer.build import build_retriever
from indexer.docs import EntryDoc
from indexer.errors import IndexCorrupt, IndexMismatch
from indexer.retriever import Retriever, RetrieverConfig
from indexer.text import ngram_text

SCHEMA = {"kind", "format_version", "library_version", "created_at", "files", "params"}
CONFIG = RetrieverConfig(lexical_weight=1.0, dense_weight=0.5, method="score", learn_from_use=True)
SYSTEMS = ["HIS", "LIS", "PACS", "EMR", "自助机", "打印机"]


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer()


def _lsa(dim: int = 16) -> LsaEmbedder:
    return LsaEmbedder(dim, preprocess=ngram_text, batch_size=256)


def _saved(root: Path, analyzer: Analyzer) -> Retriever:
    docs = [
        EntryDoc(i + 1, title=f"{s}故障{i}", symptom=f"{s}系统第{i}类问题，页面报错", system=s)
        for i, s in enumerate(SYSTEMS * 2)
    ]
    r = build_retriever(docs, analyzer, _lsa(), CONFIG, ann_threshold=1000)
    assert r.dense
    store.save(r, root, last_seq=7, backend="lsa", fitted_count=len(docs), version="9.9")
    return r


def _empty(analyzer: Analyzer, dim: int = 16) -> Retriever:
    return Retriever(analyzer, _lsa(dim), CONFIG)


def test_every_part_carries_the_one_schema_and_loads_back(
    tmp_path: Path, analyzer: Analyzer
) -> None:
    r = _saved(tmp_path, analyzer)
    manifests = sorted(tmp_path.rglob("manifest.json"))
    assert len(manifests) == 4  # root, lexical, embedder, vector
    for path in manifests:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert set(data) == SCHEMA and data["library_version"] == "9.9"
    kinds = {json.loads(p.read_text(encoding="utf-8"))["kind"] for p in manifests}
    assert kinds == {"search-index", "lexical", "embedder", "vector"}
    loaded = _empty(analyzer)
    saved = store.load(loaded, tmp_path, backend="lsa", ann_threshold=1000)
    assert (saved.last_seq, saved.fitted_count) == (7, 12)
    assert loaded.embedder is not None and r.embedder is not None
    assert loaded.embedder.model_id == r.embedder.model_id
    query = "PACS系统页面报错"
    assert [h.id for h in loaded.search(query, 3).hits] == [h.id for h in r.search(query, 3).hits]


def test_damaged_embedder_state_is_corrupt(tmp_path: Path, analyzer: Analyzer) -> None:
    _saved(tmp_path, analyzer)
    state = next(tmp_path.glob("gen-*/embedder/proj.npy"))
    state.write_bytes(state.read_bytes()[:-20])
    with pytest.raises(IndexCorrupt, match="checksum"):
        store.load(_empty(analyzer), tmp_path, backend="lsa", ann_threshold=1000)


def test_a_part_swapped_for_another_is_refused(tmp_path: Path, analyzer: Analyzer) -> None:
    _saved(tmp_path, analyzer)
    part = next(tmp_path.glob("gen-*/lexical/manifest.json"))
    part.write_text(part.read_text(encoding="utf-8").replace('"9.9"', '"9.8"'), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="checksum"):
        store.load(_empty(analyzer), tmp_path, backend="lsa", ann_threshold=1000)


def test_other_settings_mean_rebuild(tmp_path: Path, analyzer: Analyzer) -> None:
    _saved(tmp_path, analyzer)
    with pytest.raises(IndexMismatch, match="backend"):
        store.load(_empty(analyzer), tmp_path, backend="e5", ann_threshold=1000)
    with pytest.raises(IndexMismatch):
        store.load(_empty(analyzer, dim=32), tmp_path, backend="lsa", ann_threshold=1000)
    lexical_only = Retriever(analyzer, None, CONFIG)
    with pytest.raises(IndexMismatch, match="dense channel"):
        store.load(lexical_only, tmp_path, backend="lsa", ann_threshold=1000)
