"""The engine fits confidence to the KB it serves at reindex time, saves it and reloads it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer import calibration
from kbsvc.config import Settings
from kbsvc.demo import loader
from kbsvc.search.engine import build_search_engine


def test_demo_kb_gets_its_own_calibration_saved_with_the_index(
    settings: Settings, engine: Engine, session: Session, tmp_path: Path
) -> None:
    loader.load(session, privacy=settings.privacy)
    session.commit()
    eng = build_search_engine(settings, engine, index_dir=tmp_path / "idx")
    eng.start()
    conf = eng.status()["confidence"]
    assert conf["source"] == "fitted" and conf["key"] == eng.calibration_key(eng.retriever)
    assert conf["answerable"] >= calibration.MIN_EVIDENCE and conf["no_answer"] > 0
    assert conf["no_answer_high"] <= 0.06 and 0 < conf["medium"] <= conf["high"] < 1
    hits = eng.search("收费处打印发票打偏了", 5).hits
    assert [b for _, b in eng.rate("收费处打印发票打偏了", hits)][0] != "low"
    eng.stop()

    again = build_search_engine(settings, engine, index_dir=tmp_path / "idx")
    again.start()  # loads the saved index and its calibration: nothing refitted
    assert again.calibration.to_json() == eng.calibration.to_json()
    again.stop()
