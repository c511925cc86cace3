"""SearchEngine over a plain in-memory ChangeSource: the indexer needs no database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from embeddings.factory import EmbeddingConfig
from indexer.channels import EngineConfig
from indexer.docs import EntryDoc
from indexer.engine import SearchEngine
from indexer.retriever import RetrieverConfig
from indexer.source import Change, Op


class ListSource:
    """A change log held in a list (what a bench or another application could supply)."""

    def __init__(self) -> None:
        self.docs: dict[int, EntryDoc] = {}
        self.log: list[Change] = []

    def write(self, doc: EntryDoc) -> None:
        self.docs[doc.id] = doc
        self._append(doc.id, "upsert")

    def delete(self, doc_id: int) -> None:
        self.docs.pop(doc_id, None)
        self._append(doc_id, "delete")

    def _append(self, doc_id: int, op: Op) -> None:
        self.log.append(Change(len(self.log) + 1, doc_id, op))

    def latest_seq(self) -> int:
        return len(self.log)

    def changes_since(self, seq: int) -> Sequence[Change]:
        return self.log[seq:]

    def load_docs(self, ids: Sequence[int] | None = None) -> list[EntryDoc]:
        wanted = sorted(self.docs) if ids is None else sorted(i for i in ids if i in self.docs)
        return [self.docs[i] for i in wanted]


def _config(index_dir: Path, backend: str = "none") -> EngineConfig:
    return EngineConfig(
        index_dir=index_dir,
        retriever=RetrieverConfig(
            lexical_weight=1.0, dense_weight=0.5, method="score", learn_from_use=True
        ),
        embedding=EmbeddingConfig(
            backend=backend,
            model_path="",
            query_prompt="",
            passage_prompt="",
            batch_size=32,
            lsa_dim=16,
            e5_threads=1,
        ),
        ann_threshold=1000,
        version="test",
    )


def _ids(engine: SearchEngine, query: str) -> list[int]:
    return [h.id for h in engine.search(query, 5).hits]


def test_engine_builds_follows_and_reloads_from_a_list_source(tmp_path: Path) -> None:
    source = ListSource()
    source.write(EntryDoc(1, title="收费处打印机卡纸", symptom="发票打印机卡纸不出票"))
    engine = SearchEngine(_config(tmp_path), source)
    engine.start()
    assert _ids(engine, "打印机卡纸") == [1]
    source.write(EntryDoc(2, title="PACS影像调阅很慢", symptom="片子打开一直转圈"))
    source.delete(1)
    assert engine.sync() == 2
    assert _ids(engine, "打印机卡纸") == [] and _ids(engine, "片子转圈") == [2]
    engine.stop()
    again = SearchEngine(_config(tmp_path), source)
    again.start()
    assert again.last_seq == 3 and _ids(again, "片子转圈") == [2]


def test_dense_channel_waits_for_enough_documents_then_fits(tmp_path: Path) -> None:
    source = ListSource()
    engine = SearchEngine(_config(tmp_path, backend="lsa"), source)
    engine.start()
    assert engine.status()["dense"] == "none"  # nothing to fit on yet
    for i in range(12):
        source.write(EntryDoc(i + 1, title=f"第{i}号系统故障", symptom=f"系统{i}页面报错"))
    engine.sync()
    assert engine.status()["dense"].startswith("lsa:16d:")
    cfg = replace(engine.config.retriever, dense_weight=0.0)
    assert not engine.build_retriever(source.load_docs(), cfg).dense
