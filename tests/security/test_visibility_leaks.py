"""Threat: a signed-in user learns about entries auth.policy hides from them (drafts, other
departments' restricted entries) through a surface other than GET /entries/{id}."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.entries.models import Entry, EntryStatus
from tests.factories import make_entry

SECRET = "输血科接口密钥轮换"


def _key(session: Session, role: Role, departments: list[str] | None = None) -> dict[str, str]:
    _row, key = auth_service.create_api_key(
        session, name=f"k-{role}-{departments}", role=role, departments=departments
    )
    session.commit()
    return {"X-API-Key": key}


def _secret(session: Session, **over: object) -> Entry:
    data = {
        "title": SECRET,
        "system": "HIS",
        "tags": ["输血秘钥"],
        "restricted_departments": ["输血科"],
    }
    data.update(over)
    return make_entry(session, **data)


def test_merge_from_a_hidden_entry_is_404(client: TestClient, session: Session) -> None:
    """Regression: a reviewer who cannot see X merged X's text into a public entry."""
    secret = _secret(session)
    public = make_entry(session, title="公开条目")
    outsider = _key(session, Role.reviewer, ["信息科"])
    r = client.post(
        f"/api/v1/entries/{public.id}/merge",
        json={"from_id": secret.id, "append_solution": True},
        headers=outsider,
    )
    assert r.status_code == 404 and SECRET not in r.text
    session.refresh(secret)
    assert secret.merged_into_id is None and secret.status == EntryStatus.published


def test_tags_of_hidden_entries_are_not_listed(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    """Regression: GET /tags listed the tags (and counts) of drafts and restricted entries."""
    _secret(session)
    make_entry(session, title="草稿", status=EntryStatus.draft, tags=["草稿专用"])
    make_entry(session, title="公开", tags=["打印"])
    names = {t["name"] for t in client.get("/api/v1/tags", headers=viewer_headers).json()["data"]}
    assert "打印" in names and "输血秘钥" not in names and "草稿专用" not in names
    inside = _key(session, Role.viewer, ["输血科"])
    names = {t["name"] for t in client.get("/api/v1/tags", headers=inside).json()["data"]}
    assert "输血秘钥" in names
    admin = _key(session, Role.admin)
    names = {t["name"] for t in client.get("/api/v1/tags", headers=admin).json()["data"]}
    assert {"输血秘钥", "草稿专用", "打印"} <= names


def test_editions_hide_what_the_reader_may_not_see(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    """Regression: an edition's 本版变更 listed restricted titles to every viewer."""
    _secret(session)
    make_entry(session, title="公开：HIS挂号打印慢", system="HIS")
    admin = _key(session, Role.admin)
    body = {"title": "HIS手册", "selection": {"systems": ["HIS"]}}
    hb = client.post("/api/v1/handbooks", json=body, headers=admin).json()["id"]
    first = client.post(f"/api/v1/handbooks/{hb}/editions", headers=admin)
    assert first.status_code == 201 and SECRET in first.text  # the admin sees everything
    r = client.get(f"/api/v1/handbooks/{hb}/editions", headers=viewer_headers)
    assert r.status_code == 200 and SECRET not in r.text
    assert r.json()["data"][0]["entry_count"] == 1


def test_a_draft_selection_is_never_frozen_into_an_edition(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    """Regression: a handbook selecting drafts froze unreviewed text every viewer later read."""
    make_entry(session, title="草稿：未审核的做法", system="HIS", status=EntryStatus.draft)
    body = {"title": "草稿手册", "selection": {"systems": ["HIS"], "status": "draft"}}
    hb = client.post("/api/v1/handbooks", json=body, headers=editor_headers).json()["id"]
    r = client.post(f"/api/v1/handbooks/{hb}/editions", headers=editor_headers)
    assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    assert (
        client.get(f"/api/v1/handbooks/{hb}/editions", headers=editor_headers).json()["count"] == 0
    )


def test_duplicates_never_list_hidden_entries(client: TestClient, session: Session) -> None:
    """Regression: /entries/{id}/duplicates and the create response listed hidden entries."""
    _secret(session, symptom="输血科接口密钥过期，配血结果回传失败", solution="轮换密钥")
    outsider = _key(session, Role.editor, ["信息科"])
    body = {"title": SECRET, "symptom": "输血科接口密钥过期，配血结果回传失败", "system": "HIS"}
    r = client.post("/api/v1/entries", json=body, headers=outsider)
    assert r.status_code == 201 and SECRET not in str(r.json().get("duplicates"))
    new_id = r.json()["id"]
    r = client.get(f"/api/v1/entries/{new_id}/duplicates", headers=outsider)
    assert r.status_code == 200 and SECRET not in r.text


def test_reports_list_only_entries_the_reviewer_may_see(
    client: TestClient, session: Session
) -> None:
    """Regression: reuse/health reports showed restricted titles to reviewers of other
    departments (never-reused list, JSON, CSV and the reports page)."""
    _secret(session)
    make_entry(session, title="公开：打印机脱机")
    outsider = _key(session, Role.reviewer, ["信息科"])
    inside = _key(session, Role.reviewer, ["输血科"])
    for name in ("reuse", "health"):
        for fmt in ("json", "csv"):
            url = f"/api/v1/reports/{name}"
            r = client.get(
                url,
                params={"format": fmt, "table": "never_reused"}
                if fmt == "csv" and name == "reuse"
                else {"format": fmt},
                headers=outsider,
            )
            assert r.status_code == 200 and SECRET not in r.text, (name, fmt)
    r = client.get("/api/v1/reports/reuse", headers=inside)
    assert SECRET in r.text and "公开：打印机脱机" in r.text
