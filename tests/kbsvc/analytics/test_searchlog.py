"""Search logging: queued off the request path, PII scrubbed, clicks, retention."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.analytics import searchlog
from kbsvc.analytics.models import ClickAction, SearchClick, SearchLog
from kbsvc.config import ExtraPattern, PrivacySettings
from kbsvc.timeutil import utcnow


@pytest.fixture
def writer(engine: Engine) -> Iterator[searchlog.SearchLogWriter]:
    w = searchlog.SearchLogWriter(engine, privacy=PrivacySettings())
    yield w
    w.close()


def test_record_search_returns_id_then_writes(
    writer: searchlog.SearchLogWriter, session: Session
) -> None:
    log_id = searchlog.record_search(
        writer,
        kind="suggest",
        query="患者13812345678 身份证110101199003071234 医保卡读不出来",
        filters={"system": "HIS", "module": None},
        result_ids=[3, 1],
        top_score=12.5,
        top_confidence=0.72,
        latency_ms=8.345,
        caller="apikey:widget",
    )
    assert len(log_id) == 32
    writer.flush()
    row = session.get(SearchLog, log_id)
    assert row is not None
    assert "13812345678" not in row.query and "110101199003071234" not in row.query
    assert "医保卡读不出来" in row.query
    assert row.filters == {"system": "HIS"}
    assert (row.result_ids, row.result_count, row.top_confidence) == ([3, 1], 2, 0.72)
    assert row.latency_ms == 8.35 and row.caller == "apikey:widget"


def test_scrub_masks_numbers_but_keeps_text() -> None:
    text = "请拨 0571-87654321 或 13912345678，住院号 20250101123456 打印失败"
    out = searchlog.scrub(text, PrivacySettings())
    assert "87654321" not in out and "13912345678" not in out and "20250101123456" not in out
    assert "打印失败" in out


def test_scrub_sees_through_full_width_digits() -> None:
    out = searchlog.scrub("回电１３９１２３４５６７８，医保卡读不出来", PrivacySettings())
    assert "13912345678" not in out and "１３９１２３４５６７８" not in out
    assert "医保卡读不出来" in out


def test_scrub_applies_the_sites_own_patterns() -> None:
    site = PrivacySettings(extra_patterns=[ExtraPattern(kind="mrn", pattern=r"MRN\d{6}")])
    assert "MRN123456" not in searchlog.scrub("MRN123456 医嘱打不开", site)
    assert "MRN123456" in searchlog.scrub("MRN123456 医嘱打不开", PrivacySettings())


def test_click_and_purge(writer: searchlog.SearchLogWriter, session: Session) -> None:
    old = searchlog.record_search(
        writer, kind="search", query="旧的", at=utcnow() - timedelta(days=200)
    )
    new = searchlog.record_search(writer, kind="search", query="新的")
    writer.flush()
    searchlog.record_click(session, log_id=new, entry_id=7, action=ClickAction.cite)
    assert searchlog.purge(session, days=180) == 1
    assert session.get(SearchLog, old) is None and session.get(SearchLog, new) is not None
    clicks = session.exec(select(SearchClick)).all()
    assert [(c.log_id, c.entry_id, c.action) for c in clicks] == [(new, 7, "cite")]


def test_searches_close_together_are_stored_in_one_transaction(
    engine: Engine, session: Session
) -> None:
    from sqlalchemy import event

    commits: list[int] = []

    def count(_conn: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)
    writer = searchlog.SearchLogWriter(engine, privacy=PrivacySettings(), linger_s=5.0)
    try:
        ids = [
            searchlog.record_search(writer, kind="suggest", query=f"打印机{i}") for i in range(5)
        ]
        writer.flush()  # a flush does not wait out the linger
        assert len(commits) == 1
        assert all(session.get(SearchLog, i) is not None for i in ids)
    finally:
        writer.close()
        event.remove(engine, "commit", count)
