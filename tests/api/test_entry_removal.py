"""Nothing cited is destroyed: guarded delete, archive instead, admin purge with a tombstone."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from kbsvc.auth.models import AuditEvent
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, LinkKind
from tests.factories import make_entry

H = dict[str, str]


def _cite(session: Session, entry_id: int, ext: str = "INC-1") -> None:
    entries.link_ticket(
        session, entry_id=entry_id, source="itsm", external_id=ext, kind=LinkKind.cited, actor="t"
    )
    session.commit()


@pytest.mark.parametrize("status", [EntryStatus.published, EntryStatus.archived])
def test_published_or_archived_entry_cannot_be_deleted(
    client: TestClient, session: Session, admin_headers: H, status: EntryStatus
) -> None:
    entry = make_entry(session, status=status)
    r = client.delete(f"/api/v1/entries/{entry.id}", headers=admin_headers)
    assert r.status_code == 409
    assert "归档" in r.json()["message"] and r.json()["details"]["allowed_actions"] == ["archive"]
    assert client.get(f"/api/v1/entries/{entry.id}", headers=admin_headers).status_code == 200


def test_cited_or_once_published_draft_cannot_be_deleted(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    cited = make_entry(session, status=EntryStatus.draft)
    _cite(session, cited.id or 0)
    r = client.delete(f"/api/v1/entries/{cited.id}", headers=editor_headers)
    assert r.status_code == 409 and r.json()["details"]["citations"] == 1

    # Published, archived, reopened as a draft: its history says it was live once.
    was_live = make_entry(session, status=EntryStatus.published)
    url = f"/api/v1/entries/{was_live.id}"
    client.post(f"{url}/archive", headers=reviewer_headers)
    assert client.post(f"{url}/restore-draft", headers=editor_headers).json()["status"] == "draft"
    assert client.delete(url, headers=editor_headers).status_code == 409


def test_fresh_draft_can_be_deleted(
    client: TestClient, session: Session, editor_headers: H
) -> None:
    draft = make_entry(session, status=EntryStatus.draft)
    assert client.delete(f"/api/v1/entries/{draft.id}", headers=editor_headers).status_code == 204
    assert client.get(f"/api/v1/entries/{draft.id}", headers=editor_headers).status_code == 404


def test_admin_purge_keeps_tombstone_links_and_audit(
    client: TestClient, session: Session, admin_headers: H, editor_headers: H
) -> None:
    entry = make_entry(session, symptom="患者张三住院号123456登录失败")
    _cite(session, entry.id or 0, "INC-77")
    url = f"/api/v1/entries/{entry.id}"
    assert (
        client.post(
            f"{url}/purge", json={"reason": "含患者信息"}, headers=editor_headers
        ).status_code
        == 403
    )
    assert client.post(f"{url}/purge", json={}, headers=admin_headers).status_code == 422
    r = client.post(
        f"{url}/purge", json={"reason": "症状中含患者姓名和住院号"}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "archived" and body["purged_at"]
    assert body["purge_reason"] == "症状中含患者姓名和住院号"
    assert body["symptom"] == "" and "张三" not in str(body)
    history = client.get(f"{url}/versions", headers=admin_headers).json()
    assert history["count"] == 1 and history["data"][0]["note"].startswith("管理员清除")
    snap = client.get(f"{url}/versions/{body['version']}", headers=admin_headers).json()
    assert "张三" not in str(snap)
    # The ticket that cited it still resolves to the tombstone.
    cited = client.get("/api/v1/tickets/itsm/INC-77/citations", headers=editor_headers).json()
    assert [c["entry_id"] for c in cited["data"]] == [entry.id]
    events = session.execute(
        select(AuditEvent).where(AuditEvent.action == "entry.purge")  # type: ignore[arg-type]
    ).scalars()
    assert [e.object_id for e in events] == [str(entry.id)]
    assert (
        client.post(f"{url}/purge", json={"reason": "再来一次"}, headers=admin_headers).status_code
        == 409
    )
