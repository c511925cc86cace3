"""Search and suggest honour the visibility policy: no drafts for viewers, no other
departments' restricted entries, whatever the query or filters ask for."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry


def _key(session: Session, role: Role, departments: list[str] | None = None) -> dict[str, str]:
    _row, key = auth_service.create_api_key(
        session, name=f"{role}-{departments}", role=role, departments=departments
    )
    session.commit()
    return {"X-API-Key": key}


def test_search_and_suggest_hide_what_the_caller_may_not_see(
    client: TestClient, session: Session
) -> None:
    public = make_entry(session, title="输血系统登录失败", symptom="输血科工作站无法登录").id
    draft = make_entry(
        session,
        title="输血系统登录失败草稿",
        symptom="输血科工作站无法登录",
        status=EntryStatus.draft,
    ).id
    secret = make_entry(
        session,
        title="输血系统登录失败（科内）",
        symptom="输血科工作站无法登录",
        restricted_departments=["输血科"],
    ).id
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    viewer = _key(session, Role.viewer, ["信息科"])
    lab = _key(session, Role.viewer, ["输血科"])
    editor = _key(session, Role.editor)
    _row, wkey = auth_service.create_api_key(
        session, name="w", role=Role.widget, origins=["http://his.example.cn"]
    )
    session.commit()
    widget_key = {"X-API-Key": wkey}

    def search_ids(headers: dict[str, str], **params: str) -> set[int]:
        r = client.get(
            "/api/v1/search", params={"q": "输血科工作站无法登录", **params}, headers=headers
        )
        assert r.status_code == 200, r.text
        return {h["entry"]["id"] for h in r.json()["data"]}

    def suggest_ids(headers: dict[str, str]) -> set[int]:
        r = client.post(
            "/api/v1/suggest", json={"text": "输血科工作站无法登录", "k": 10}, headers=headers
        )
        assert r.status_code == 200, r.text
        return {h["entry"]["id"] for h in r.json()["data"]}

    assert search_ids(viewer) == {public}
    assert search_ids(viewer, status="draft") == set()  # asking for drafts does not help
    assert search_ids(lab) == {public, secret}
    assert draft in search_ids(editor, status="draft")
    assert suggest_ids(viewer) == {public}
    assert suggest_ids(widget_key) == {public}
    assert suggest_ids(lab) == {public, secret}
