"""Object-level visibility: drafts for editors only, department-restricted entries."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from kbsvc.auth import policy
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import ANONYMOUS, SYSTEM, Principal, Role
from kbsvc.entries.models import Entry, EntryStatus
from tests.factories import make_entry


def _key(session: Session, role: Role, departments: list[str] | None = None) -> dict[str, str]:
    _row, key = auth_service.create_api_key(
        session, name=f"k-{role}-{departments}", role=role, departments=departments
    )
    session.commit()
    return {"X-API-Key": key}


def test_drafts_hidden_from_viewers_everywhere(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
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
    r = client.post(
        "/api/v1/entries",
        headers=admin,
        json={"title": "输血科系统接口配置", "restricted_departments": ["输血科"]},
    )
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
    r = client.patch(
        f"/api/v1/entries/{secret_id}", json={"title": "x", "base_version": 1}, headers=outside
    )
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
    for who, expected in (
        (viewer, [pub.id]),
        (lab, [restricted.id, pub.id]),
        (widget, [pub.id]),
        (ANONYMOUS, [pub.id]),
        (SYSTEM, [restricted.id, draft.id, pub.id]),
    ):
        assert policy.filter_visible(session, who, ids) == expected  # type: ignore[arg-type]
        via_sql = set(session.execute(select(Entry.id).where(policy.visible_filter(who))).scalars())
        assert via_sql == set(expected)
        for entry in (pub, draft, restricted):
            assert policy.can_view(session, who, entry) == (entry.id in expected)


def test_every_entry_route_hides_drafts_from_viewers(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    widget_headers: dict[str, str],
) -> None:
    """Walks the OpenAPI document: any route with {entry_id}, present or future, answers 404
    (never 200 or 403) to a viewer or widget asking about a draft."""
    draft = make_entry(session, title="未发布草稿", status=EntryStatus.draft)
    leaks = []
    for path, item in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        if "{entry_id}" not in path or not path.startswith("/api/"):
            continue
        for method in item:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            url = path.replace("{entry_id}", str(draft.id))
            url = url.replace("{version}", "1").replace("{other_id}", "1")
            for headers in (viewer_headers, widget_headers):
                r = client.request(
                    method.upper(), url, headers=headers, json={} if method != "get" else None
                )
                if r.status_code != 404:
                    leaks.append(f"{method.upper()} {path} -> {r.status_code}")
    assert not leaks, leaks


def test_handbook_export_leaves_out_hidden_entries(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    make_entry(session, title="公开：HIS挂号打印慢", system="HIS")
    make_entry(
        session, title="限定：输血科HIS接口", system="HIS", restricted_departments=["输血科"]
    )
    body = {"title": "HIS手册", "selection": {"systems": ["HIS"]}, "max_entries": 50}
    hb = client.post("/api/v1/handbooks", json=body, headers=editor_headers).json()["id"]
    assert (
        client.post(
            f"/api/v1/handbooks/{hb}/editions", headers=_key(session, Role.admin)
        ).status_code
        == 201
    )  # frozen by an admin, who sees everything

    draft_body = {"title": "草稿手册", "selection": {"systems": ["HIS"], "status": "draft"}}
    make_entry(session, title="草稿：HIS未审核", system="HIS", status=EntryStatus.draft)
    drafts = client.post("/api/v1/handbooks", json=draft_body, headers=editor_headers).json()

    live = client.get(
        f"/api/v1/handbooks/{hb}/export", params={"format": "md"}, headers=viewer_headers
    )
    frozen = client.get(
        f"/api/v1/handbooks/{hb}/export",
        params={"format": "md", "edition": 1},
        headers=viewer_headers,
    )
    for r in (live, frozen):
        assert r.status_code == 200, r.text
        assert "公开：HIS挂号打印慢" in r.text and "输血科" not in r.text
    r = client.get(
        f"/api/v1/handbooks/{drafts['id']}/export", params={"format": "md"}, headers=viewer_headers
    )
    assert r.status_code == 422 and "草稿：HIS未审核" not in r.text
    r = client.get(
        f"/api/v1/handbooks/{drafts['id']}/export", params={"format": "md"}, headers=editor_headers
    )
    assert r.status_code == 200 and "草稿：HIS未审核" in r.text


def test_every_page_with_an_entry_id_hides_restricted_entries(
    client: TestClient, session: Session
) -> None:
    """Walks the app's page routes (kept out of OpenAPI): any GET page with {entry_id}, present
    or future, answers a logged-in editor of another department 404, as for a missing id."""
    from collections.abc import Iterator
    from typing import Any

    from fastapi.routing import APIRoute

    from api.routers import web

    auth_service.create_user(
        session, username="gk2", role=Role.editor, password="s3cret-pass", departments=["骨科"]
    )
    hidden = make_entry(session, title="内科限定条目", restricted_departments=["内科"])
    login = {"username": "gk2", "password": "s3cret-pass"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200

    def routes(items: list[Any]) -> Iterator[APIRoute]:
        for r in items:  # included routers are wrapped; the web UI has no path prefix
            if isinstance(r, APIRoute):
                yield r
            elif hasattr(r, "original_router"):
                yield from routes(r.original_router.routes)

    web_routes = routes(web.router.routes)
    pages = [r.path for r in web_routes if "{entry_id}" in r.path and "GET" in r.methods]
    assert "/entries/{entry_id}/edit" in pages
    leaks = []
    for path in pages:
        r = client.get(path.replace("{entry_id}", str(hidden.id)), follow_redirects=False)
        if r.status_code != 404 or "内科限定条目" in r.text:
            leaks.append(f"GET {path} -> {r.status_code}")
    assert not leaks, leaks
