"""Review guards live content: edits of published entries wait as revisions until published."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_entry

H = dict[str, str]
LIVE = "更新CA证书后重新登录"
BAD = "直接重装电脑即可。"


def _url(entry_id: int | None) -> str:
    return f"/api/v1/entries/{entry_id}"


def test_editor_edit_of_published_entry_waits_for_review(
    client: TestClient,
    session: Session,
    editor_headers: H,
    reviewer_headers: H,
    viewer_headers: H,
) -> None:
    entry = make_entry(session)
    url = _url(entry.id)
    r = client.patch(url, json={"solution": BAD, "base_version": 1}, headers=editor_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["pending_revision"] == {"version": 2, "status": "draft"}
    assert body["solution"] == LIVE and body["version"] == 1

    seen = client.get(url, headers=viewer_headers).json()
    assert seen["solution"] == LIVE and seen["pending_revision"] is None
    assert client.get(url, headers=editor_headers).json()["pending_revision"]["status"] == "draft"
    # Search reads the live row too.
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    hits = client.get("/api/v1/search", params={"q": "重装电脑"}, headers=viewer_headers).json()
    assert all(h["entry"]["solution"] == LIVE for h in hits["data"])
    sug = client.post("/api/v1/suggest", json={"text": "证书无效 登录"}, headers=viewer_headers)
    assert [h["entry"]["solution"] for h in sug.json()["data"]] == [LIVE]
    assert client.get(f"{url}/revision", headers=viewer_headers).status_code == 403

    # Nothing is waiting for a reviewer until the editor submits.
    queue = client.get("/api/v1/review-queue", headers=reviewer_headers).json()
    assert queue["count"] == 0
    r = client.post(f"{url}/submit", headers=editor_headers)
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert r.json()["pending_revision"] == {"version": 2, "status": "in_review"}
    queue = client.get("/api/v1/review-queue", headers=reviewer_headers).json()
    assert [e["id"] for e in queue["data"]] == [entry.id]
    # A viewer learns nothing of pending revisions, not even that one exists.
    assert client.get("/api/v1/review-queue", headers=viewer_headers).json()["count"] == 0
    assert queue["data"][0]["pending_revision"]["status"] == "in_review"
    rev = client.get(f"{url}/revision", headers=reviewer_headers).json()
    assert rev["changes"] == [{"field": "solution", "before": LIVE, "after": BAD}]

    # Rejected: back to the author with the comment; the live entry never moved.
    r = client.post(
        f"{url}/reject", json={"comment": "不能让用户重装电脑"}, headers=reviewer_headers
    )
    assert r.status_code == 200 and r.json()["pending_revision"]["status"] == "draft"
    assert client.get(f"{url}/revision", headers=editor_headers).json()["review_comment"] == (
        "不能让用户重装电脑"
    )
    fixed = "重新插拔CA Key后在证书助手中刷新"
    client.patch(url, json={"solution": fixed, "base_version": 1}, headers=editor_headers)
    client.post(f"{url}/submit", headers=editor_headers)
    assert client.get(url, headers=viewer_headers).json()["solution"] == LIVE
    r = client.post(f"{url}/publish", headers=reviewer_headers)
    assert r.status_code == 200, r.text
    live = client.get(url, headers=viewer_headers).json()
    assert live["solution"] == fixed and live["version"] == 2 and live["status"] == "published"
    history = client.get(f"{url}/versions", headers=editor_headers).json()["data"]
    assert history[0]["version"] == 2 and history[0]["note"].startswith("发布修订")
    assert client.get(f"{url}/revision", headers=editor_headers).status_code == 404


def test_reviewer_may_publish_own_edit_directly(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    entry = make_entry(session)
    url = _url(entry.id)
    body = {"cause": "证书到期未续", "base_version": 1, "publish": True}
    assert client.patch(url, json=body, headers=editor_headers).status_code == 403
    r = client.patch(url, json=body, headers=reviewer_headers)
    assert r.status_code == 200, r.text
    assert r.json()["cause"] == "证书到期未续" and r.json()["version"] == 2
    assert r.json()["pending_revision"] is None
    note = client.get(f"{url}/versions", headers=reviewer_headers).json()["data"][0]["note"]
    assert note == "审核人修改并直接发布"
    # Without `publish` a reviewer's edit is a revision like anyone's.
    r = client.patch(url, json={"cause": "x", "base_version": 2}, headers=reviewer_headers)
    assert r.json()["pending_revision"] == {"version": 3, "status": "draft"}
    # A direct publish over someone's pending revision would silently fork it.
    again = {"cause": "y", "base_version": 2, "publish": True}
    assert client.patch(url, json=again, headers=reviewer_headers).status_code == 409


def test_discard_and_stale_revision(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    entry = make_entry(session)
    url = _url(entry.id)
    client.patch(url, json={"title": "改标题", "base_version": 1}, headers=editor_headers)
    r = client.patch(url, json={"title": "旧页面", "base_version": 0 + 2}, headers=editor_headers)
    assert r.status_code == 409 and r.json()["details"]["current_version"] == 1
    assert client.delete(f"{url}/revision", headers=editor_headers).status_code == 204
    assert client.get(url, headers=editor_headers).json()["pending_revision"] is None
    assert client.delete(f"{url}/revision", headers=editor_headers).status_code == 404
    # Submitting with no revision is the plain state machine again: published cannot be submitted.
    assert client.post(f"{url}/submit", headers=editor_headers).status_code == 409


def test_restore_of_published_entry_is_a_revision_under_review(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    entry = make_entry(session)
    url = _url(entry.id)
    client.patch(
        url, json={"cause": "新原因", "base_version": 1, "publish": True}, headers=reviewer_headers
    )
    r = client.post(f"{url}/versions/1/restore", json={"base_version": 2}, headers=editor_headers)
    assert r.status_code == 200, r.text
    assert r.json()["cause"] == "新原因" and r.json()["pending_revision"]["status"] == "in_review"
    assert (
        client.post(f"{url}/publish", headers=reviewer_headers).json()["cause"] == "CA Key证书过期"
    )


def test_draft_edits_change_in_place(
    client: TestClient, session: Session, editor_headers: H
) -> None:
    from kbsvc.entries.models import EntryStatus

    entry = make_entry(session, status=EntryStatus.draft)
    r = client.patch(
        _url(entry.id), json={"cause": "草稿改", "base_version": 1}, headers=editor_headers
    )
    assert r.json()["cause"] == "草稿改" and r.json()["version"] == 2
    assert r.json()["pending_revision"] is None
