"""Threat: the public widget key (it is in the helpdesk page source) cites entries from every
ticket id in bulk, poisoning ranking and reuse reports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.entries import citations
from kbsvc.widget import bounds
from tests.factories import make_entry

ORIGIN = {"Origin": "http://127.0.0.1:8000"}


def test_widget_citations_are_bounded_per_ticket(
    client: TestClient,
    session: Session,
    widget_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    """Regression: one widget key could attach any number of entries to any ticket."""
    limit = citations.WIDGET_CITES_PER_TICKET
    ids = [make_entry(session, title=f"打印机故障 {i}").id for i in range(limit + 1)]
    headers = {**widget_headers, **ORIGIN}
    body = {"source": "itsm", "external_id": "INC-1"}
    for entry_id in ids[:limit]:
        r = client.post(f"/api/v1/entries/{entry_id}/citations", json=body, headers=headers)
        assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/entries/{ids[limit]}/citations", json=body, headers=headers)
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert "Retry-After" in r.headers
    again = client.post(f"/api/v1/entries/{ids[0]}/citations", json=body, headers=headers)
    assert again.status_code == 200  # citing again stays an idempotent no-op
    other = {"source": "itsm", "external_id": "INC-2"}
    r = client.post(f"/api/v1/entries/{ids[limit]}/citations", json=other, headers=headers)
    assert r.status_code == 201
    # People (viewer keys, signed-in engineers) are not bounded by the widget's cap.
    r = client.post(f"/api/v1/entries/{ids[limit]}/citations", json=body, headers=viewer_headers)
    assert r.status_code == 201


def _votes(client: TestClient, headers: dict[str, str], entry_id: int | None, ticket: str) -> Any:
    body = {"helpful": False, "comment": "没用", "source": "itsm", "external_id": ticket}
    return client.post(f"/api/v1/entries/{entry_id}/feedback", json=body, headers=headers)


def test_widget_votes_are_bounded_per_ticket_and_per_key_and_reviewable(
    client: TestClient,
    session: Session,
    widget_headers: dict[str, str],
    viewer_headers: dict[str, str],
    reviewer_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: the public widget key posted not-helpful feedback (each a review flag) in
    bulk, from every ticket id, poisoning ranking and the review queue."""
    monkeypatch.setattr(bounds, "VOTES_PER_DAY", 15)  # 500 by default; the rule is the same
    per_ticket = bounds.VOTES_PER_TICKET
    ids = [make_entry(session, title=f"网络中断 {i}").id for i in range(per_ticket + 6)]
    headers = {**widget_headers, **ORIGIN}
    codes = [_votes(client, headers, i, "INC-1").status_code for i in ids[: per_ticket + 1]]
    assert codes == [201] * per_ticket + [429], codes
    again = _votes(client, headers, ids[0], "INC-1")  # changing a vote already cast is fine
    assert again.status_code == 200
    over = _votes(client, headers, ids[per_ticket], "INC-1").json()
    assert over["code"] == "rate_limited" and "小部件" in over["message"]
    # Per key and day: 10 votes so far (one of them changed); 5 more on other tickets, then 429.
    codes = [_votes(client, headers, ids[0], f"INC-{n}").status_code for n in range(2, 8)]
    assert codes == [201] * 5 + [429], codes
    # People are not bounded by the widget's caps.
    r = _votes(client, viewer_headers, ids[per_ticket], "INC-1")
    assert r.status_code == 201 and r.json()["via_widget"] is False
    # Reviewers see which flags came from the widget (and whose key), to undo them.
    flags = client.get("/api/v1/review-flags?limit=200", headers=reviewer_headers).json()["data"]
    widget_flags = [f for f in flags if f["via_widget"]]
    assert len(widget_flags) == per_ticket + 5
    assert all(f["created_by"].startswith("widget:") for f in widget_flags)
    assert sum(1 for f in flags if not f["via_widget"]) == 1
    cited = {"source": "itsm", "external_id": "INC-9"}
    client.post(f"/api/v1/entries/{ids[0]}/citations", json=cited, headers=headers)
    rows = client.get(f"/api/v1/entries/{ids[0]}/citations", headers=reviewer_headers).json()
    assert [c["via_widget"] for c in rows["data"]] == [True]


def _capture(client: TestClient, headers: dict[str, str], ticket: str, n: int) -> int:
    body = {
        "source": "itsm",
        "external_id": ticket,
        "title": f"打印机脱机 {n}",
        "solution": f"重启打印服务（第 {n} 次）",
    }
    return client.post("/api/v1/widget/capture", json=body, headers=headers).status_code


def test_widget_captures_are_bounded_per_ticket_and_per_key(
    client: TestClient,
    session: Session,
    widget_headers: dict[str, str],
    editor_headers: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: one widget key could turn any number of ticket ids into drafts, and
    rewrite one ticket's draft without end."""
    monkeypatch.setattr(bounds, "CAPTURES_PER_TICKET", 3)  # 20 by default
    monkeypatch.setattr(bounds, "CAPTURES_PER_DAY", 6)  # 200 by default
    headers = {**widget_headers, **ORIGIN}
    codes = [_capture(client, headers, "INC-1", n) for n in range(4)]
    assert codes == [201, 200, 200, 429], codes
    codes = [_capture(client, headers, f"INC-{n}", n) for n in range(2, 6)]
    assert codes == [201, 201, 201, 429], codes
    # An editor is not bounded (and the per-ticket count is of widget captures only).
    assert _capture(client, editor_headers, "INC-1", 9) == 200
    drafts = client.get("/api/v1/entries?status=draft&limit=50", headers=editor_headers).json()
    widget_made = [e for e in drafts["data"] if e["created_by"].startswith("widget:")]
    assert len(widget_made) == 4  # INC-1 … INC-4, each labelled as the widget's
