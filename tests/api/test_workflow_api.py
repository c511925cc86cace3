"""Review workflow over HTTP: every allowed transition, every forbidden one, roles, the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.entries.models import EntryStatus
from kbsvc.entries.workflow import TRANSITIONS
from kbsvc.timeutil import utcnow
from tests.factories import make_entry

H = dict[str, str]
ACTIONS = {
    "submit": "submit",
    "publish": "publish",
    "reject": "reject",
    "archive": "archive",
    "restore_draft": "restore-draft",
}


def _do(client: TestClient, entry_id: int, action: str, headers: H, comment: str = "请补充原因"):  # type: ignore[no-untyped-def]
    body = {"comment": comment} if action == "reject" else None
    return client.post(f"/api/v1/entries/{entry_id}/{ACTIONS[action]}", json=body, headers=headers)


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_each_allowed_transition(
    client: TestClient, session: Session, reviewer_headers: H, action: str
) -> None:
    move = TRANSITIONS[action]
    entry = make_entry(session, status=move.source)
    r = _do(client, entry.id or 0, action, reviewer_headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == move.target and body["version"] == 2
    versions = client.get(f"/api/v1/entries/{entry.id}/versions", headers=reviewer_headers)
    assert versions.json()["data"][0]["note"].startswith(move.note)


FORBIDDEN = [
    (action, status)
    for action, move in sorted(TRANSITIONS.items())
    for status in EntryStatus
    if status != move.source
]


@pytest.mark.parametrize(("action", "status"), FORBIDDEN)
def test_each_forbidden_transition_is_409(
    client: TestClient, session: Session, reviewer_headers: H, action: str, status: EntryStatus
) -> None:
    entry = make_entry(session, status=status)
    r = _do(client, entry.id or 0, action, reviewer_headers)
    assert r.status_code == 409, r.text
    err = r.json()
    assert str(status) in err["message"] and str(TRANSITIONS[action].target) in err["message"]
    assert err["details"]["current_status"] == status
    assert err["details"]["target_status"] == TRANSITIONS[action].target
    after = client.get(f"/api/v1/entries/{entry.id}", headers=reviewer_headers).json()
    assert after["status"] == status and after["version"] == 1


def test_roles(
    client: TestClient, session: Session, editor_headers: H, viewer_headers: H, reviewer_headers: H
) -> None:
    draft = make_entry(session, status=EntryStatus.draft)
    # A viewer cannot see drafts at all (auth.policy): 404, so the id does not leak.
    assert _do(client, draft.id or 0, "submit", viewer_headers).status_code == 404
    assert _do(client, draft.id or 0, "submit", editor_headers).status_code == 200
    r = _do(client, draft.id or 0, "publish", editor_headers)
    assert r.status_code == 403 and "reviewer" in r.json()["message"]
    assert _do(client, draft.id or 0, "reject", editor_headers).status_code == 403
    assert _do(client, draft.id or 0, "publish", reviewer_headers).status_code == 200
    assert _do(client, draft.id or 0, "archive", editor_headers).status_code == 403


def test_reject_needs_comment_and_shows_it(
    client: TestClient, session: Session, reviewer_headers: H
) -> None:
    entry = make_entry(session, status=EntryStatus.in_review)
    r = client.post(f"/api/v1/entries/{entry.id}/reject", json={}, headers=reviewer_headers)
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/entries/{entry.id}/reject", json={"comment": "  "}, headers=reviewer_headers
    )
    assert r.status_code == 422
    r = _do(client, entry.id or 0, "reject", reviewer_headers, comment="解决步骤不完整")
    assert r.json()["status"] == "draft" and r.json()["review_comment"] == "解决步骤不完整"


def test_publish_sets_review_due_by_category(
    client: TestClient, session: Session, reviewer_headers: H
) -> None:
    general = make_entry(session, status=EntryStatus.in_review, category="打印")
    insurance = make_entry(session, status=EntryStatus.in_review, category="医保")
    now = utcnow()
    due_general = _do(client, general.id or 0, "publish", reviewer_headers).json()["review_due_at"]
    due_ins = _do(client, insurance.id or 0, "publish", reviewer_headers).json()["review_due_at"]
    from datetime import datetime

    assert abs(datetime.fromisoformat(due_general) - (now + timedelta(days=180))).days < 1
    assert abs(datetime.fromisoformat(due_ins) - (now + timedelta(days=90))).days < 1


def test_review_queue_lists_in_review_oldest_first(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H
) -> None:
    first = make_entry(session, status=EntryStatus.in_review, title="第一")
    make_entry(session, status=EntryStatus.draft, title="草稿")
    second = make_entry(session, status=EntryStatus.in_review, title="第二", system="PACS")
    r = client.get("/api/v1/review-queue", headers=editor_headers)
    assert [e["id"] for e in r.json()["data"]] == [first.id, second.id]
    r = client.get("/api/v1/review-queue", params={"system": "PACS"}, headers=editor_headers)
    assert [e["id"] for e in r.json()["data"]] == [second.id]
    # Entries in review are work in progress: hidden from viewers (auth.policy).
    assert client.get("/api/v1/review-queue", headers=viewer_headers).json()["count"] == 0


def test_due_and_system_upgrade(client: TestClient, session: Session, reviewer_headers: H) -> None:
    his = make_entry(session, system="HIS")
    make_entry(session, system="HIS", status=EntryStatus.draft)
    pacs = make_entry(session, system="PACS")
    assert client.get("/api/v1/entries/due", headers=reviewer_headers).json()["count"] == 0
    r = client.post(
        "/api/v1/systems/HIS/upgraded", json={"note": "HIS 升级到 6.0"}, headers=reviewer_headers
    )
    assert r.status_code == 200 and r.json()["entry_ids"] == [his.id]
    due = client.get("/api/v1/entries/due", headers=reviewer_headers).json()
    assert [e["id"] for e in due["data"]] == [his.id]
    flags = client.get("/api/v1/review-flags", headers=reviewer_headers).json()["data"]
    assert [(f["entry_id"], f["reason"], f["comment"]) for f in flags] == [
        (his.id, "system_upgraded", "HIS 升级到 6.0")
    ]
    later = (utcnow() + timedelta(days=400)).isoformat()
    r = client.get("/api/v1/entries/due", params={"before": later}, headers=reviewer_headers)
    assert r.json()["count"] == 1  # pacs has no review date: it never went through review
    r = client.post(f"/api/v1/entries/{his.id}/reviewed", headers=reviewer_headers)
    assert r.status_code == 200
    assert client.get("/api/v1/entries/due", headers=reviewer_headers).json()["count"] == 0
    assert pacs.id is not None
