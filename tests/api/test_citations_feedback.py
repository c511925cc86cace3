"""Citations (idempotent per ticket) and feedback (one vote per ticket/caller, flags)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_entry, make_ticket

H = dict[str, str]


def test_citation_is_idempotent_and_counted(
    client: TestClient, session: Session, viewer_headers: H
) -> None:
    entry = make_entry(session)
    ticket = make_ticket(session, source="itsm", external_id="INC-1")
    url = f"/api/v1/entries/{entry.id}/citations"
    r = client.post(url, json={"source": "itsm", "external_id": "INC-1"}, headers=viewer_headers)
    assert r.status_code == 201, r.text
    assert r.json()["ticket_id"] == ticket.id and r.json()["ticket_title"] == ticket.title
    r = client.post(url, json={"source": "itsm", "external_id": "INC-1"}, headers=viewer_headers)
    assert r.status_code == 200
    # A ticket that was never imported can cite too.
    r = client.post(url, json={"source": "itsm", "external_id": "INC-404"}, headers=viewer_headers)
    assert r.status_code == 201 and r.json()["ticket_id"] is None

    listed = client.get(url, headers=viewer_headers).json()
    assert [c["external_id"] for c in listed["data"]] == ["INC-1", "INC-404"]
    detail = client.get(f"/api/v1/entries/{entry.id}", headers=viewer_headers).json()
    assert detail["citation_count"] == 2
    other = make_entry(session, title="另一条")
    client.post(
        f"/api/v1/entries/{other.id}/citations",
        json={"source": "itsm", "external_id": "INC-1"},
        headers=viewer_headers,
    )
    cited = client.get("/api/v1/tickets/itsm/INC-1/citations", headers=viewer_headers).json()
    assert [c["entry_id"] for c in cited["data"]] == [entry.id, other.id]
    assert (
        client.post(
            "/api/v1/entries/999/citations",
            json={"source": "a", "external_id": "b"},
            headers=viewer_headers,
        ).status_code
        == 404
    )
    assert client.post(url, json={"source": "itsm"}, headers=viewer_headers).status_code == 422


def test_feedback_once_per_ticket_and_per_caller(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H
) -> None:
    entry = make_entry(session)
    url = f"/api/v1/entries/{entry.id}/feedback"
    r = client.post(
        url,
        json={"helpful": True, "source": "itsm", "external_id": "INC-7"},
        headers=viewer_headers,
    )
    assert r.status_code == 201
    r = client.post(
        url,
        json={"helpful": False, "source": "itsm", "external_id": "INC-7"},
        headers=editor_headers,
    )
    assert r.status_code == 200  # same ticket: the vote is updated, not added
    assert client.post(url, json={"helpful": True}, headers=viewer_headers).status_code == 201
    assert client.post(url, json={"helpful": True}, headers=viewer_headers).status_code == 200
    assert client.post(url, json={"helpful": True}, headers=editor_headers).status_code == 201
    detail = client.get(f"/api/v1/entries/{entry.id}", headers=viewer_headers).json()
    assert (detail["helpful_count"], detail["not_helpful_count"]) == (2, 1)
    # A ticket id needs its source system; a source alone names the channel (the entry page
    # sends "web", a widget with no ticket open its own name) and counts once per caller.
    r = client.post(url, json={"helpful": True, "external_id": "INC-8"}, headers=viewer_headers)
    assert r.status_code == 422


def test_entry_page_and_widget_votes_without_ticket_are_accepted(
    client: TestClient, session: Session, viewer_headers: H, reviewer_headers: H
) -> None:
    """Regression: 有用/没用 on the entry page failed with 'give both source and external_id'."""
    entry = make_entry(session)
    url = f"/api/v1/entries/{entry.id}/feedback"
    r = client.post(url, json={"helpful": True, "source": "web"}, headers=viewer_headers)
    assert r.status_code == 201, r.text
    vote = {"helpful": False, "source": "web", "comment": "第二步找不到证书助手"}
    r = client.post(url, json=vote, headers=viewer_headers)
    assert r.status_code == 200 and r.json()["flag_id"] is not None  # the same caller's vote
    flags = client.get("/api/v1/review-flags", headers=reviewer_headers).json()
    assert [f["comment"] for f in flags["data"]] == ["第二步找不到证书助手"]


def test_not_helpful_with_comment_flags_entry(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H
) -> None:
    entry = make_entry(session)
    url = f"/api/v1/entries/{entry.id}/feedback"
    r = client.post(url, json={"helpful": False}, headers=viewer_headers)
    assert r.json()["flag_id"] is None  # no comment, nothing for a human to act on
    vote = {"helpful": False, "comment": "新版本菜单位置变了", "source": "itsm", "external_id": "9"}
    r = client.post(url, json=vote, headers=viewer_headers)
    flag_id = r.json()["flag_id"]
    assert flag_id is not None
    r = client.post(url, json={**vote, "comment": "菜单在 系统设置 下"}, headers=viewer_headers)
    assert r.json()["flag_id"] == flag_id  # the same vote keeps its one flag
    flags = client.get("/api/v1/review-flags", headers=viewer_headers).json()
    assert flags["count"] == 1
    assert flags["data"][0] == {
        **flags["data"][0],
        "entry_id": entry.id,
        "reason": "feedback",
        "comment": "菜单在 系统设置 下",
        "status": "open",
    }
    assert (
        client.get(f"/api/v1/entries/{entry.id}", headers=viewer_headers).json()["open_flag_count"]
        == 1
    )
    assert (
        client.post(f"/api/v1/review-flags/{flag_id}/resolve", headers=viewer_headers).status_code
        == 403
    )
    r = client.post(
        f"/api/v1/review-flags/{flag_id}/resolve",
        json={"resolution": "已更新步骤"},
        headers=editor_headers,
    )
    assert r.status_code == 200 and r.json()["status"] == "resolved"
    assert client.get("/api/v1/review-flags", headers=viewer_headers).json()["count"] == 0
    assert (
        client.post(f"/api/v1/review-flags/{flag_id}/resolve", headers=editor_headers).status_code
        == 409
    )
