"""Threats: one cheap request makes the server do expensive work (limits come before the work);
personal data typed into any ticket field is stored (masking covers every typed field)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.analytics import searchlog
from kbsvc.analytics.models import SearchLog
from kbsvc.config import PrivacySettings
from kbsvc.privacy import pii
from kbsvc.tickets.models import Ticket


@pytest.fixture
def writer(engine: Engine) -> Iterator[searchlog.SearchLogWriter]:
    w = searchlog.SearchLogWriter(engine, privacy=PrivacySettings())
    yield w
    w.close()


def test_search_log_truncates_before_scrubbing(
    writer: searchlog.SearchLogWriter, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression: a 2 MB widget suggest was PII-scrubbed whole (≈15 s CPU), then cut to 500."""
    seen: list[int] = []

    def observed(text: str, settings: PrivacySettings, field: str = "") -> pii.ScrubResult:
        seen.append(len(text))
        return pii.scrub_text(text, settings, field)

    monkeypatch.setattr(searchlog, "scrub_text", observed)
    log_id = searchlog.record_search(writer, kind="suggest", query="打印机卡纸 " * 400_000)
    writer.flush()
    assert seen and max(seen) <= searchlog.LOG_QUERY_CHARS
    row = session.get(SearchLog, log_id)
    assert row is not None and len(row.query) <= searchlog.LOG_QUERY_CHARS


def test_a_number_cut_at_the_limit_is_dropped_not_stored_half() -> None:
    text = "x" * (searchlog.LOG_QUERY_CHARS - 5) + "13812345678 医保卡"
    assert searchlog.head(text) == "x" * (searchlog.LOG_QUERY_CHARS - 5)
    assert searchlog.head("短查询") == "短查询"


def test_pii_is_masked_in_short_fields_and_tags(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    """Regression: handler, department, module, category and tags were stored unmasked while
    the ticket's raw row was masked."""
    phone = "13812345678"
    ticket = {
        "external_id": "PII-1",
        "title": "打印失败",
        "handler": f"王工 {phone}",
        "department": f"内科 {phone}",
        "module": f"患者：张三丰 {phone}",
        "category": f"打印 {phone}",
        "tags": [f"回电{phone}", "打印机"],
    }
    r = client.post("/api/v1/tickets", json=[ticket], headers=editor_headers)
    assert r.status_code == 200, r.text
    stored = session.exec(select(Ticket).where(Ticket.external_id == "PII-1")).one()
    for value in (stored.handler, stored.department, stored.module, stored.category, *stored.tags):
        assert phone not in value, value
    assert "张三丰" not in stored.module and "打印机" in stored.tags
