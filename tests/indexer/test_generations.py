"""Shared index generations in one process: an elected writer publishes, readers map and follow."""

from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer import store
from indexer.engine import SearchEngine
from indexer.fields import Filters
from indexer.follow import Follower
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.search.engine import build_search_engine
from tests.factories import make_entry


def _shared(settings: Settings, db: Engine) -> tuple[SearchEngine, Follower]:
    eng = build_search_engine(settings, db, shared=True)
    eng.start()
    return eng, Follower(eng, interval=0.1, publish_every=3600)


def _fill(session: Session, n: int = 12) -> None:
    """Enough entries for the corpus-fitted dense channel to fit on."""
    words = ["网络交换机", "打印驱动", "门诊排队", "病案归档", "药房发药", "检验条码"]
    for i in range(n):
        make_entry(session, title=f"{words[i % 6]}问题{i}", symptom=f"{words[i % 6]}第{i}例")


def _top(eng: SearchEngine, q: str) -> list[int]:
    """The best hit (the dense channel adds weaker neighbours after it)."""
    return [h.id for h in eng.search(q, 5, Filters()).hits][:1]


def test_one_writer_publishes_readers_map_follow_and_take_over(
    settings: Settings, engine: Engine, session: Session
) -> None:
    _fill(session)
    first = make_entry(session, title="条码打印机不出纸", symptom="门诊条码打印机卡住")
    writer, wf = _shared(settings, engine)
    reader, rf = _shared(settings, engine)
    assert (writer.role, reader.role) == ("writer", "reader")
    assert writer.ready and reader.ready
    assert writer.generation == reader.generation == store.current_generation(settings.index_dir)
    # The reader's postings and vectors are the published files, mapped, not copies.
    base = reader.retriever.lexical._seg.arrays["post_tfs"]
    assert isinstance(base, np.memmap) and base.filename is not None
    assert reader.retriever.vectors is not None and reader.retriever.vectors.mapped
    assert _top(reader, "条码打印") == [first.id]

    # A write reaches every process through its in-memory delta, before any publish.
    second = make_entry(session, title="自助机读卡失败", symptom="自助机刷医保卡没反应")
    wf.tick()
    rf.tick()
    gen = writer.generation
    assert reader.generation == gen
    assert _top(writer, "自助机读卡") == _top(reader, "自助机读卡") == [second.id]
    entries.delete(session, entry_id=first.id or 0, actor="t", principal=SYSTEM)
    session.commit()
    rf.tick()
    assert first.id not in [h.id for h in reader.search("条码打印", 20, Filters()).hits]

    # The writer publishes; the reader switches to the new generation and still agrees.
    wf.tick()
    writer.save()
    assert writer.generation != gen
    rf.tick()
    assert reader.generation == writer.generation
    assert _top(reader, "自助机读卡") == [second.id]
    assert first.id not in [h.id for h in reader.search("条码打印", 20, Filters()).hits]
    assert reader.status()["writer"]["generation"] in (gen, writer.generation)

    # The writer goes away: the reader takes the lock on its next pass and publishes.
    writer.stop()
    third = make_entry(session, title="PACS影像调阅缓慢", symptom="放射科看片很慢")
    rf.tick()
    assert reader.role == "writer"
    published = reader.generation
    reader.save()
    assert reader.generation != published
    assert store.current_generation(settings.index_dir) == reader.generation
    assert _top(reader, "PACS影像") == [third.id]
    reader.stop()


def test_a_reader_without_an_index_waits_for_the_writer(
    settings: Settings, engine: Engine, session: Session
) -> None:
    entry = make_entry(session, title="医保结算提示未备案", symptom="异地患者医保结算失败")
    held = build_search_engine(settings, engine, shared=True)
    assert held.lock is not None and held.lock.try_acquire()  # a writer still starting up
    reader, rf = _shared(settings, engine)
    assert reader.role == "reader" and not reader.ready
    rf.tick()
    assert not reader.ready
    held.role = "writer"
    held.start()  # builds and publishes the first generation
    rf.tick()
    assert reader.ready and reader.generation == held.generation
    assert _top(reader, "医保结算") == [entry.id]
    held.stop()
    reader.stop()
