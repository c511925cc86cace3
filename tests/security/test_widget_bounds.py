"""Threat: the public widget key (it is in the helpdesk page source) cites entries from every
ticket id in bulk, poisoning ranking and reuse reports."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.entries import citations
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
