"""Backend "lsa+e5": lexical, LSA and e5 fused by rank, each hit naming its channels."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.engine import SearchEngine
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.search import service
from kbsvc.search.engine import build_search_engine, engine_config
from tests.factories import make_entry

ENTRIES = [
    ("医保结算一直转圈", "刷医保卡结算超时", "医保"),
    ("收费处发票打印机卡纸", "打印发票卡纸", "打印机"),
    ("PACS影像调阅很慢", "放射科看片子一直转圈", "PACS"),
    ("病房无线网络断开", "移动护理推车连不上WiFi", "网络"),
    ("叫号屏不显示", "二楼诊区叫号屏幕黑屏", "叫号系统"),
    ("自助机没纸", "自助机不出凭条", "自助机"),
    ("电子病历签名失败", "医生站电子病历CA签名报错", "EMR"),
    ("LIS条码打印不出来", "检验科条码打印机没反应", "LIS"),
    ("门诊挂号系统登录不上", "挂号窗口提示用户名或密码错误", "HIS"),
    ("住院药房发药单打不出", "药房发药单打印失败", "HIS"),
    ("心电图上传失败", "心电图机数据传不到系统", "心电"),
    ("手麻系统数据不同步", "麻醉记录单看不到术中数据", "手麻"),
]


def _three(settings: Settings, db: Engine, index_dir: Path) -> SearchEngine:
    s = settings.model_copy(
        update={"embedding": settings.embedding.model_copy(update={"backend": "lsa+e5"})}
    )
    eng = build_search_engine(s, db, index_dir=index_dir)
    eng.start()
    while eng.backfill_step():  # e5 embeds in the background; here at once
        pass
    return eng


def test_three_channels_are_fused_by_rank_and_every_hit_names_its_channels(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    ids = [make_entry(session, title=t, symptom=s, system=x).id for t, s, x in ENTRIES]
    session.commit()
    s = settings.model_copy(
        update={"embedding": settings.embedding.model_copy(update={"backend": "lsa+e5"})}
    )
    cfg = engine_config(s)
    assert cfg.retriever.method == "rrf" and cfg.retriever.dense_weight == 1.0

    eng = _three(settings, engine, tmp_path / "idx")
    assert eng.channels == ["e5", "lsa"] and eng.status()["channels"] == ["lexical", "e5", "lsa"]
    ranked = eng.search("医保卡结账转圈", 5)
    assert ranked.channels == ["lexical", "e5", "lsa"] and ranked.hits[0].id == ids[0]
    assert set(ranked.hits[0].channels) == {"lexical", "e5", "lsa"}
    # Typing: the fast channels answer; e5 joins once the query's vector is cached.
    assert eng.search("移动推车WiFi断了", 5, dense=None).channels == ["lexical", "lsa"]

    resp = service.search(
        session, eng, settings=s.search, q="医保卡结账转圈", k=3, principal=SYSTEM, search_log=None
    )
    assert resp.channels == ["lexical", "e5", "lsa"]
    reasons = {r.channel: r for r in resp.data[0].reasons}
    assert {"lexical", "e5", "lsa"} <= set(reasons) and reasons["e5"].rank == 1
    assert reasons["lexical"].terms  # the words it matched
    eng.save()
    eng.stop()

    # Every channel is saved with the index and loads again without a rebuild.
    again = build_search_engine(s, engine, index_dir=tmp_path / "idx")
    again.start()  # a rebuild would have queued every entry for e5 again
    assert again.status()["dense_progress"] == {"embedded": 12, "pending": 0, "background": True}
    assert sorted(again.retriever.dense_channels()) == ["e5", "lsa"]
    assert again.search("医保卡结账转圈", 5).hits[0].id == ids[0]
    again.stop()
