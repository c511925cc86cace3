"""`auto` follows the KB's own evidence, chosen at `kbsvc reindex`, and says why in /readyz."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.config import Settings
from kbsvc.demo import loader
from kbsvc.search import choice
from kbsvc.search.engine import engine_config


def test_choice_is_saved_with_its_reason_and_auto_follows_it(
    settings: Settings, engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader.load(session, privacy=settings.privacy)
    session.commit()
    # e5 costs minutes on the demo KB; its figures are in bench/bench_confidence.py.
    monkeypatch.setattr(choice, "CANDIDATES", choice.CANDIDATES[:2])
    out = choice.choose(settings, engine)
    names = [r["name"] for r in out["candidates"]]
    assert names == ["lexical", "lexical + LSA, RRF"]
    chosen = out["chosen"]
    assert chosen is not None and chosen["name"] in out["why"] and "linked tickets" in out["why"]
    best = max(r["mrr@10"] for r in out["candidates"])
    assert chosen["mrr@10"] >= best - choice.MIN_GAIN
    saved = json.loads((settings.data_dir / choice.FILE).read_text(encoding="utf-8"))
    assert saved["chosen"] == chosen

    cfg = engine_config(settings)
    assert cfg.embedding.backend == chosen["backend"]
    assert cfg.retriever.method == "rrf"
    pinned = settings.model_copy(
        update={"search": settings.search.model_copy(update={"fusion": "score"})}
    )
    pinned.search.model_fields_set.add("fusion")
    assert engine_config(pinned).retriever.method == "score"  # explicit settings win

    # /readyz says what auto runs on here and why, in the chooser's own words.
    from api.app import create_app

    with TestClient(create_app(settings, db_engine=engine)) as client:
        auto = client.get("/readyz").json()["search"]["auto"]
    assert auto["auto"] is True and auto["backend"] == chosen["backend"]
    assert auto["why"] == out["why"] and [c["name"] for c in auto["candidates"]] == names


def test_too_little_evidence_keeps_lsa_and_says_so(settings: Settings, engine: Engine) -> None:
    out = choice.choose(settings, engine)
    assert out["chosen"] is None and "need" in out["why"] and "LSA" in out["why"]
    assert engine_config(settings).embedding.backend == "auto"
    assert choice.describe(settings)["backend"] == "lsa"


def test_without_a_choice_auto_stays_lsa(settings: Settings) -> None:
    assert engine_config(settings).embedding.backend == "auto"
    assert "kbsvc reindex" in choice.describe(settings)["why"]


def test_a_large_kb_is_judged_on_its_answers_plus_a_bounded_sample() -> None:
    from indexer.docs import EntryDoc
    from kbsvc.search.eval import Judgment

    docs = [EntryDoc(id=i, title=f"条目{i}") for i in range(1, 20_001)]
    judgments = [Judgment(f"工单{i}", [str(i * 17)]) for i in range(1, 1_001)]
    kept_j, kept_d = choice._bounded(judgments, docs)
    assert len(kept_j) == choice.MAX_JUDGMENTS
    assert len(kept_d) == choice.MAX_DOCS
    ids = {d.id for d in kept_d}
    assert all(int(r) in ids for j in kept_j for r in j.relevant)  # every answer stays
    assert choice._bounded(judgments[:50], docs[:100]) == (judgments[:50], docs[:100])
