"""`auto` follows the KB's own evidence once `kbsvc eval --from-links --choose` has chosen."""

from __future__ import annotations

import json

import pytest
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
    monkeypatch.setattr(choice, "CANDIDATES", choice.CANDIDATES[:3])
    out = choice.choose(settings, engine)
    names = [r["name"] for r in out["candidates"]]
    assert names == ["lexical", "lexical + LSA, score", "lexical + LSA, RRF"]
    chosen = out["chosen"]
    assert chosen is not None and chosen["name"] in out["why"] and "linked tickets" in out["why"]
    best = max(r["mrr@10"] for r in out["candidates"])
    assert chosen["mrr@10"] >= best - choice.MIN_GAIN
    saved = json.loads((settings.data_dir / choice.FILE).read_text(encoding="utf-8"))
    assert saved["chosen"] == chosen

    cfg = engine_config(settings)
    assert cfg.embedding.backend == chosen["backend"]
    assert cfg.retriever.method == chosen["fusion"]
    pinned = settings.model_copy(
        update={"search": settings.search.model_copy(update={"fusion": "score"})}
    )
    pinned.search.model_fields_set.add("fusion")
    assert engine_config(pinned).retriever.method == "score"  # explicit settings win


def test_without_a_choice_auto_stays_lsa(settings: Settings) -> None:
    assert engine_config(settings).embedding.backend == "auto"
