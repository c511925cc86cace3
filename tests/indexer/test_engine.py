"""SearchEngine against a real database: build, sync, persistence, recovery, convergence."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.engine import SearchEngine
from indexer.fields import Filters
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, EntryUpdate, LinkKind
from kbsvc.search.engine import build_search_engine
from tests.factories import make_entry, make_ticket


def _engine(settings: Settings, db: Engine, index_dir: Path | None = None) -> SearchEngine:
    eng = build_search_engine(settings, db, index_dir=index_dir)
    eng.start()
    return eng


def _top(eng: SearchEngine, q: str, **filters: str | None) -> list[int]:
    return [h.id for h in eng.search(q, 5, Filters(**filters)).hits]


def test_build_then_sync_sees_publish_update_delete(
    settings: Settings, engine: Engine, session: Session
) -> None:
    printer = make_entry(
        session, title="收费处打印机卡纸", symptom="发票打印机卡纸不出票", system="打印机"
    )
    eng = _engine(settings, engine)
    assert _top(eng, "打印及卡纸") == [printer.id]

    pacs = make_entry(session, title="PACS影像调阅很慢", symptom="片子打开一直转圈", system="PACS")
    draft = make_entry(
        session, title="PACS草稿条目", symptom="片子打开一直转圈", status=EntryStatus.draft
    )
    assert pacs.id not in _top(eng, "片子好卡")
    assert eng.sync() == 2
    assert _top(eng, "片子好卡") == [pacs.id]
    assert set(_top(eng, "片子好卡", status=None)) == {pacs.id, draft.id}

    entries.update(
        session,
        entry_id=pacs.id or 0,
        data=EntryUpdate(title="超声工作站黑屏", symptom="超声工作站开机黑屏"),
        actor="t",
        principal=SYSTEM,
    )
    entries.delete(session, entry_id=printer.id or 0, actor="t", principal=SYSTEM)
    session.commit()
    eng.sync()
    assert _top(eng, "超声工作站黑屏") == [pacs.id]
    assert _top(eng, "打印机卡纸") == []
    assert eng.status()["entries"] == 2


def test_linked_ticket_text_is_indexed_with_the_entry(
    settings: Settings, engine: Engine, session: Session
) -> None:
    entry = make_entry(session, title="读卡器端口配置错误", symptom="读卡器无响应")
    eng = _engine(settings, engine)
    assert _top(eng, "患者的卡刷了没有反应") in ([], [entry.id])
    make_ticket(
        session,
        external_id="T-LINK-1",
        title="门诊诊室刷患者就诊卡没有反应",
        symptom="医生叫号后刷患者的就诊卡没有反应",
    )
    entries.link_ticket(
        session,
        entry_id=entry.id or 0,
        source="test",
        external_id="T-LINK-1",
        kind=LinkKind.cited,
        actor="t",
    )
    session.commit()
    eng.sync()
    hits = eng.search("叫号后刷就诊卡", 5).hits
    assert hits and hits[0].id == entry.id and "就诊卡" in hits[0].matched


def test_restart_loads_saved_index_and_catches_up(
    settings: Settings, engine: Engine, session: Session
) -> None:
    first = make_entry(session, title="LIS条码打印机不出条码", symptom="检验科条码打印不出")
    eng = _engine(settings, engine)
    eng.stop()
    assert (settings.index_dir / "manifest.json").is_file()
    second = make_entry(session, title="自助机读卡失败", symptom="自助机刷医保卡没反应")
    again = _engine(settings, engine)
    assert again.last_seq >= 2
    assert _top(again, "条码打印") == [first.id]
    assert _top(again, "自助机读卡") == [second.id]


def test_corrupt_or_missing_index_is_rebuilt_not_trusted(
    settings: Settings, engine: Engine, session: Session
) -> None:
    entry = make_entry(session, title="医保结算提示未备案", symptom="异地患者医保结算失败")
    eng = _engine(settings, engine)
    eng.stop()
    gen = next(settings.index_dir.glob("gen-*"))
    postings = gen / "lexical" / "post_tfs.npy"
    postings.write_bytes(postings.read_bytes()[:100] + b"garbage")
    recovered = _engine(settings, engine)
    assert _top(recovered, "医宝结算") == [entry.id]
    recovered.stop()
    for path in settings.index_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    assert _top(_engine(settings, engine), "医保结算") == [entry.id]


def test_two_engines_on_one_database_converge(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    a = _engine(settings, engine, tmp_path / "a")
    b = _engine(settings, engine, tmp_path / "b")
    ids = [
        make_entry(session, title=f"HIS挂号模块故障{i}", symptom="挂号时系统报错").id
        for i in range(3)
    ]
    entries.delete(session, entry_id=ids[0] or 0, actor="t", principal=SYSTEM)
    session.commit()
    a.sync()
    b.sync()
    assert a.last_seq == b.last_seq
    assert sorted(a.retriever.lexical.ids) == sorted(b.retriever.lexical.ids) == ids[1:]
    assert _top(a, "挂号报错") == _top(b, "挂号报错")


def test_dense_channel_fits_persists_and_follows_changes(
    settings: Settings, engine: Engine, session: Session
) -> None:
    systems = ["HIS", "LIS", "PACS", "EMR", "自助机", "打印机"]
    made = [
        make_entry(session, title=f"{s}故障{i}", symptom=f"{s}系统第{i}类问题，页面报错", system=s)
        for i, s in enumerate(systems * 2)
    ]
    eng = _engine(settings, engine)
    assert eng.status()["dense"].startswith("lsa:")
    hits = eng.search("PACS系统页面报错", 3, Filters()).hits
    assert hits[0].id in {made[2].id, made[8].id} and "lsa" in hits[0].channels
    entries.delete(session, entry_id=made[2].id or 0, actor="t", principal=SYSTEM)
    session.commit()
    eng.sync()
    assert made[2].id not in {h.id for h in eng.search("PACS", 12, Filters()).hits}
    eng.stop()
    again = _engine(settings, engine)
    assert again.status() == {**eng.status(), "ready": True}
    assert [h.id for h in again.search("LIS报错", 3, Filters()).hits] == [
        h.id for h in eng.search("LIS报错", 3, Filters()).hits
    ]
