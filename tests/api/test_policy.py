"""Object-level visibility: drafts for editors only, department-restricted entries."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from kbsvc.auth import policy
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import ANONYMOUS, Principal, Role
from kbsvc.entries.models import Entry, EntryStatus
from tests.factories import make_entry


def _key(session: Session, role: Role, departments: list[str] | None = None) -> dict[str, str]:
    _row, key = auth_service.create_api_key(session, name=f"k-{role}-{departments}", role=role,
                                            departments=departments)
    return {"X-API-Key": key}


def test_drafts_hidden_from_viewers_everywhere(
    client: TestClient, session: Session, viewer_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    pub = make_entry(session, title="已发布")
    draft = make_entry(session, title="草稿", status=EntryStatus.draft)
    review = make_entry(session, title="审核中", status=EntryStatus.in_review)
    for hidden in (draft, review):
        r = client.get(f"/api/v1/entries/{hidden.id}", headers=viewer_headers)
        assert r.status_code == 404 and r.json()["message"] == f"entry {hidden.id} not found"
        assert client.get(f"/api/v1/entries/{hidden.id}", headers=editor_headers).status_code == 200
    listed = client.get("/api/v1/entries", headers=viewer_headers).json()
    assert [e["id"] for e in listed["data"]] == [pub.id] and listed["count"] == 1
    assert client.get("/api/v1/entries", headers=editor_headers).json()["count"] == 3


def test_department_restriction(client: TestClient, session: Session) -> None:
    admin = _key(session, Role.admin)
    r = client.post("/api/v1/entries", headers=admin, json={
        "title": "输血科系统接口配置", "restricted_departments": ["输血科"]})
    assert r.status_code == 201 and r.json()["restricted_departments"] == ["输血科"]
    secret_id = r.json()["id"]
    session.get(Entry, secret_id).status = EntryStatus.published  # type: ignore[union-attr]
    session.commit()
    open_entry = make_entry(session, title="公开条目")

    inside = _key(session, Role.viewer, ["输血科"])
    outside = _key(session, Role.editor, ["信息科"])
    assert client.get(f"/api/v1/entries/{secret_id}", headers=inside).status_code == 200
    assert client.get(f"/api/v1/entries/{secret_id}", headers=outside).status_code == 404
    assert client.get(f"/api/v1/entries/{secret_id}", headers=admin).status_code == 200
    r = client.patch(f"/api/v1/entries/{secret_id}", json={"title": "x"}, headers=outside)
    assert r.status_code == 404  # hidden for writes too
    ids = [e["id"] for e in client.get("/api/v1/entries", headers=outside).json()["data"]]
    assert ids == [open_entry.id]
    ids = [e["id"] for e in client.get("/api/v1/entries", headers=inside).json()["data"]]
    assert set(ids) == {secret_id, open_entry.id}


def test_policy_helpers_agree(session: Session) -> None:
    pub = make_entry(session, title="公开")
    draft = make_entry(session, title="草稿", status=EntryStatus.draft)
    restricted = make_entry(session, title="限定", restricted_departments=["检验科"])
    viewer = Principal(kind="apikey", name="v", role=Role.viewer, departments=("信息科",))
    lab = Principal(kind="apikey", name="l", role=Role.viewer, departments=("检验科",))
    widget = Principal(kind="apikey", name="w", role=Role.widget)
    ids = [restricted.id, draft.id, pub.id, 999]
    for who, expected in ((viewer, [pub.id]), (lab, [restricted.id, pub.id]),
                          (widget, [pub.id]), (ANONYMOUS, [pub.id]),
                          (None, [restricted.id, draft.id, pub.id])):
        assert policy.filter_visible(session, who, ids) == expected  # type: ignore[arg-type]
        via_sql = set(session.execute(
            select(Entry.id).where(policy.visible_filter(who))).scalars())
        assert via_sql == set(expected)
        for entry in (pub, draft, restricted):
            assert policy.can_view(session, who, entry) == (entry.id in expected)
