"""Every successful write leaves an audit event; admins read and filter them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role


def test_writes_are_audited_without_ticket_text(
    client: TestClient,
    session: Session,
    editor_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    r = client.post(
        "/api/v1/entries",
        json={"title": "患者张三腕带打印失败", "symptom": "12床"},
        headers={**editor_headers, "X-Request-ID": "req-42"},
    )
    entry_id = str(r.json()["id"])
    client.patch(
        f"/api/v1/entries/{entry_id}",
        json={"cause": "驱动", "base_version": 1},
        headers=editor_headers,
    )
    client.post(
        "/api/v1/tickets",
        headers=editor_headers,
        json=[
            {"source": "itsm", "external_id": "A1", "title": "打印机卡纸"},
            {"source": "itsm", "external_id": "A2", "title": "网络不通"},
        ],
    )
    client.post("/api/v1/entries", json={"title": ""}, headers=editor_headers)  # 422: no event
    client.delete(f"/api/v1/entries/{entry_id}", headers=editor_headers)

    events = client.get("/api/v1/audit", headers=admin_headers).json()
    actions = [e["action"] for e in events["data"]]
    assert actions == [
        "DELETE /api/v1/entries/{entry_id}",
        "POST /api/v1/tickets",
        "PATCH /api/v1/entries/{entry_id}",
        "POST /api/v1/entries",
    ]
    create = events["data"][-1]
    assert create["actor"] == "apikey:test-editor" and create["role"] == "editor"
    assert create["object_type"] == "entries" and create["object_ids"] == [entry_id]
    assert create["status"] == 201 and create["request_id"] == "req-42"
    assert create["summary"] == "fields: symptom, title"
    assert events["data"][2]["summary"] == "fields: base_version, cause"
    assert len(events["data"][1]["object_ids"]) == 2
    blob = str(events)
    assert "张三" not in blob and "12床" not in blob and "打印机卡纸" not in blob


def test_filters_and_admin_only(
    client: TestClient,
    session: Session,
    editor_headers: dict[str, str],
    admin_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    for i in range(3):
        client.post("/api/v1/entries", json={"title": f"条目{i}"}, headers=editor_headers)
    client.post("/api/v1/tickets", json={"source": "s", "title": "t"}, headers=admin_headers)
    assert client.get("/api/v1/audit", headers=viewer_headers).status_code == 403
    assert client.get("/api/v1/audit", headers=editor_headers).status_code == 403

    def q(**params: str) -> dict:  # type: ignore[type-arg]
        return client.get("/api/v1/audit", params=params, headers=admin_headers).json()

    assert q(actor="apikey:test-editor")["count"] == 3
    assert q(object_type="tickets")["count"] == 1
    assert q(action="POST /api/v1/entries")["count"] == 3
    page = q(limit="2", offset="0")
    assert page["count"] == 4 and len(page["data"]) == 2
    assert q(**{"from": "2000-01-01T00:00:00Z", "to": "2001-01-01T00:00:00Z"})["count"] == 0
    assert q(**{"from": "2000-01-01T00:00:00Z"})["count"] == 4


def test_logins_are_audited(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    auth_service.create_user(session, username="zhao", role=Role.viewer, password="s3cret-pass")
    session.commit()
    client.post("/api/v1/auth/login", json={"username": "zhao", "password": "wrong-pass"})
    client.post("/api/v1/auth/login", json={"username": "zhao", "password": "s3cret-pass"})
    events = client.get(
        "/api/v1/audit", params={"object_type": "auth"}, headers=admin_headers
    ).json()["data"]
    assert [(e["actor"], e["status"]) for e in events] == [("user:zhao", 200), ("user:zhao", 401)]
    assert "password" in events[0]["summary"] and "s3cret" not in str(events)


def test_reads_over_post_are_not_audited_but_are_search_logged(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    """Regression: every POST /suggest committed an audit row as if it were a write."""
    from sqlalchemy import func, select

    from kbsvc.analytics.models import SearchLog
    from kbsvc.auth.models import AuditEvent
    from tests.factories import make_entry

    make_entry(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]

    def count(model: type) -> int:
        session.expire_all()
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    before = count(AuditEvent)
    for text in ("医生站", "医生站登不上", "医生站登不上，提示证书无效"):
        r = client.post("/api/v1/suggest", json={"text": text}, headers=viewer_headers)
        assert r.status_code == 200 and r.json()["log_id"]
    assert count(AuditEvent) == before
    # The search service logged each answer through the app's search-log writer.
    client.app.state.search_log.flush()  # type: ignore[attr-defined]
    assert count(SearchLog) == 3
    # Writes are still audited.
    r = client.post("/api/v1/entries", json={"title": "打印机卡纸"}, headers=editor_headers)
    assert r.status_code == 201 and count(AuditEvent) == before + 1
