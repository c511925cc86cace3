"""Tag rename/merge and vocabulary CRUD over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.entries import changes
from tests.factories import make_entry

H = dict[str, str]


def test_rename_and_merge_tags_touch_entries(
    client: TestClient, session: Session, reviewer_headers: H, editor_headers: H
) -> None:
    a = make_entry(session, tags=["CA", "登陆"])
    b = make_entry(session, tags=["登录"])
    seq = changes.latest_seq(session)
    r = client.patch("/api/v1/tags/CA", json={"name": "CA证书"}, headers=reviewer_headers)
    assert r.status_code == 200 and r.json()["entry_count"] == 1
    assert (
        client.patch(
            "/api/v1/tags/CA证书", json={"name": "登录"}, headers=reviewer_headers
        ).status_code
        == 409
    )
    assert (
        client.patch(
            "/api/v1/tags/无此标签", json={"name": "x"}, headers=reviewer_headers
        ).status_code
        == 404
    )
    assert (
        client.patch("/api/v1/tags/CA证书", json={"name": "y"}, headers=editor_headers).status_code
        == 403
    )
    r = client.post(
        "/api/v1/tags/merge", json={"sources": ["登陆"], "target": "登录"}, headers=reviewer_headers
    )
    assert r.status_code == 200 and r.json() == {**r.json(), "name": "登录", "entry_count": 2}
    assert client.get(f"/api/v1/entries/{a.id}", headers=editor_headers).json()["tags"] == [
        "CA证书",
        "登录",
    ]
    tags = client.get("/api/v1/tags", headers=editor_headers).json()["data"]
    assert [(t["name"], t["entry_count"]) for t in tags] == [("登录", 2), ("CA证书", 1)]
    touched = {c.entry_id for c in changes.changes_since(session, seq)}
    assert touched == {a.id}  # b already had 登录; only a's indexed tags changed
    assert b.id is not None


def test_vocabulary_crud_and_normalize(
    client: TestClient, reviewer_headers: H, viewer_headers: H
) -> None:
    r = client.post(
        "/api/v1/vocabularies",
        json={"kind": "module", "value": "手麻系统", "aliases": "手术麻醉", "parent": "HIS"},
        headers=reviewer_headers,
    )
    assert r.status_code == 201
    term = r.json()
    assert (
        client.post(
            "/api/v1/vocabularies",
            json={"kind": "module", "value": "手麻系统"},
            headers=reviewer_headers,
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/v1/vocabularies", json={"kind": "module", "value": "x"}, headers=viewer_headers
        ).status_code
        == 403
    )
    r = client.patch(
        f"/api/v1/vocabularies/{term['id']}",
        json={"aliases": ["手术麻醉", "麻醉"]},
        headers=reviewer_headers,
    )
    assert r.json()["aliases"] == ["手术麻醉", "麻醉"]
    r = client.get(
        "/api/v1/vocabularies/normalize",
        params={"kind": "module", "value": "麻醉"},
        headers=viewer_headers,
    )
    assert r.json() == {**r.json(), "value": "手麻系统", "match": "alias", "flagged": False}
    modules = client.get(
        "/api/v1/vocabularies", params={"kind": "module"}, headers=viewer_headers
    ).json()["data"]
    assert "手麻系统" in [m["value"] for m in modules]
    assert (
        client.delete(f"/api/v1/vocabularies/{term['id']}", headers=reviewer_headers).status_code
        == 204
    )
    assert (
        client.delete(f"/api/v1/vocabularies/{term['id']}", headers=reviewer_headers).status_code
        == 404
    )


def test_scrub_preview(client: TestClient, editor_headers: H) -> None:
    r = client.post("/api/v1/privacy/scrub", json={"text": "患者张三 12床"}, headers=editor_headers)
    assert r.json()["text"] == "患者【患者姓名】 【床号】"
    assert [f["kind"] for f in r.json()["findings"]] == ["name", "bed"]
