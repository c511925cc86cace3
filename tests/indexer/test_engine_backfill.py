"""A slow dense channel (the bundled e5) never holds a write back: background embedding."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.engine import SearchEngine
from kbsvc.config import Settings
from kbsvc.search.engine import build_search_engine
from tests.factories import make_entry


def _e5(settings: Settings, db: Engine, index_dir: Path) -> SearchEngine:
    s = settings.model_copy(
        update={
            "embedding": settings.embedding.model_copy(update={"backend": "e5"}),
            "search": settings.search.model_copy(update={"fusion": "rrf", "dense_weight": 1.0}),
        }
    )
    eng = build_search_engine(s, db, index_dir=index_dir)
    eng.start()
    return eng


def _drain(eng: SearchEngine) -> None:
    while eng.backfill_step():
        pass


def test_writes_are_lexical_at_once_and_embedded_in_the_background(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    printer = make_entry(
        session, title="收费处发票打印机卡纸", symptom="打印发票卡纸", system="打印机"
    )
    make_entry(session, title="PACS影像调阅很慢", symptom="放射科看片子一直转圈", system="PACS")
    eng = _e5(settings, engine, tmp_path / "idx")
    assert eng.slow_dense and eng.status()["dense_progress"]["pending"] == 2
    # Searchable before any vector exists; the dense channel joins as vectors land.
    assert eng.search("发票打印机卡纸", 3).hits[0].id == printer.id
    _drain(eng)
    assert eng.status()["dense_progress"] == {"embedded": 2, "pending": 0, "background": True}

    wifi = make_entry(session, title="病房无线网络断开", symptom="移动护理推车连不上WiFi")
    eng.sync()
    assert eng.status()["dense_progress"]["pending"] == 1
    assert eng.search("病房无线网络断开", 3, dense=False).hits[0].id == wifi.id
    eng.save()  # the queue is saved with the index ...
    eng.stop()

    again = _e5(settings, engine, tmp_path / "idx")  # ... and resumes after a restart
    assert again.status()["dense_progress"] == {"embedded": 2, "pending": 1, "background": True}
    _drain(again)
    assert again.status()["dense_progress"]["pending"] == 0
    again.stop()


def test_typing_stays_lexical_until_the_query_vector_is_cached(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_entry(session, title="医保结算一直转圈", symptom="刷医保卡结算超时", system="医保结算")
    eng = _e5(settings, engine, tmp_path / "idx")
    _drain(eng)
    assert eng.search("医保卡结不了账", 3, dense=None).channels == ["lexical"]
    assert eng.search("医保卡结不了账", 3, dense=True).channels == ["lexical", "e5"]
    # The settled query cached its vector: asked again while typing, the dense channel joins.
    assert eng.search("医保卡结不了账", 3, dense=None).channels == ["lexical", "e5"]
    eng.stop()


def test_reindex_can_embed_the_whole_queue_at_once(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    make_entry(session, title="叫号屏不显示", symptom="二楼诊区叫号屏幕黑屏", system="叫号系统")
    make_entry(session, title="自助机没纸", symptom="自助机不出凭条", system="自助机")
    eng = _e5(settings, engine, tmp_path / "idx")
    seen: list[tuple[int, int]] = []
    assert eng.embed_pending(lambda done, total: seen.append((done, total))) == 2
    assert seen[-1] == (2, 2) and eng.status()["dense_progress"]["pending"] == 0
    eng.stop()
