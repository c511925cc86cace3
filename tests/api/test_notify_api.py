"""Admins manage channels and read the outbox; nobody else can, and secrets never leave."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.notify import service
from kbsvc.notify.models import EventType
from tests.conftest import _key

HOOK = {
    "name": "信息科钉钉群",
    "kind": "dingtalk",
    "url": "https://oapi.dingtalk.com/robot/send?access_token=tok123",
    "secret": "SECsecret",
    "events": ["entry.submitted", "entry.rejected"],
}


def test_channel_crud_hides_secrets(client: TestClient, admin_headers: dict[str, str]) -> None:
    made = client.post("/api/v1/notify/channels", json=HOOK, headers=admin_headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["url"] == "https://oapi.dingtalk.com/robot/send" and body["has_secret"] is True
    assert "tok123" not in made.text and "SECsecret" not in made.text
    cid = body["id"]
    edit = {**HOOK, "secret": "", "events": ["flag.opened"]}
    changed = client.put(f"/api/v1/notify/channels/{cid}", json=edit, headers=admin_headers)
    assert changed.json()["events"] == ["flag.opened"] and changed.json()["has_secret"] is True
    assert (
        client.delete(f"/api/v1/notify/channels/{cid}", headers=admin_headers).json()["enabled"]
        is False
    )
    dup = client.post("/api/v1/notify/channels", json=HOOK, headers=admin_headers)
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"


def test_bad_channel_is_a_json_422(client: TestClient, admin_headers: dict[str, str]) -> None:
    bad = {**HOOK, "url": "ftp://x"}
    r = client.post("/api/v1/notify/channels", json=bad, headers=admin_headers)
    assert r.status_code == 422 and "http(s) url" in r.json()["message"]
    r = client.post(
        "/api/v1/notify/channels", json={**HOOK, "events": ["nope"]}, headers=admin_headers
    )
    assert r.status_code == 422


def test_outbox_status_for_admins_only(
    client: TestClient,
    session: Session,
    admin_headers: dict[str, str],
    reviewer_headers: dict[str, str],
) -> None:
    client.post(
        "/api/v1/notify/channels",
        json={**HOOK, "url": "http://127.0.0.1:9/x?access_token=t"},
        headers=admin_headers,
    )
    data = {"entry_id": 1, "title": "HIS登录失败", "system": "HIS", "actor": "user:a"}
    service.emit(session, EventType.entry_submitted, "entry.submitted:1:v2", data)
    session.commit()
    page = client.get("/api/v1/notify/deliveries", headers=admin_headers).json()
    assert page["count"] == 1 and page["data"][0]["title"] == "待审核：HIS登录失败"
    assert page["data"][0]["channel"] == "信息科钉钉群"
    for path in ("/api/v1/notify/deliveries", "/api/v1/notify/channels"):
        assert client.get(path, headers=reviewer_headers).status_code == 403


def test_settings_channels_are_synced_and_read_only(settings, engine) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app
    from kbsvc.config import ChannelSettings

    settings.notify.worker = False
    settings.notify.channels = [
        ChannelSettings(
            name="wecom",
            kind="wecom",
            url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k",
            events=["review.due"],
        )
    ]
    with TestClient(create_app(settings, db_engine=engine)) as c:
        with Session(engine) as s:
            headers = _key(s, Role.admin)
        (row,) = c.get("/api/v1/notify/channels", headers=headers).json()
        assert row["managed_by"] == "settings" and row["url"].endswith("/webhook/send")
        r = c.delete(f"/api/v1/notify/channels/{row['id']}", headers=headers)
        assert r.status_code == 409 and "settings" in r.json()["message"]


def test_admin_page_lists_channels_and_deliveries(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    from kbsvc.auth import service as auth_service

    client.post("/api/v1/notify/channels", json=HOOK, headers=admin_headers)
    auth_service.create_user(session, username="boss", role=Role.admin, password="s3cret-pass")
    session.commit()
    auth_service.create_user(session, username="rev", role=Role.reviewer, password="s3cret-pass")
    session.commit()
    client.post("/api/v1/auth/login", json={"username": "rev", "password": "s3cret-pass"})
    assert client.get("/admin/notify").status_code == 403
    client.post("/api/v1/auth/login", json={"username": "boss", "password": "s3cret-pass"})
    html = client.get("/admin/notify").text
    assert "信息科钉钉群" in html and "钉钉机器人（已加签）" in html and "tok123" not in html


def test_admin_retries_a_dead_delivery(
    settings: Settings, engine: Engine, session: Session, admin_headers: dict[str, str]
) -> None:
    from api.app import create_app

    settings.notify.worker = False  # nothing may pick the row up while the test looks at it
    with TestClient(create_app(settings, db_engine=engine)) as client:
        _retry_flow(client, session, admin_headers)


def _retry_flow(client: TestClient, session: Session, admin_headers: dict[str, str]) -> None:
    from sqlmodel import select

    from kbsvc.notify.models import DeliveryStatus, OutboxDelivery

    client.post("/api/v1/notify/channels", json=HOOK, headers=admin_headers)
    data = {"entry_id": 1, "title": "HIS登录失败", "system": "HIS", "actor": "user:a"}
    (row,) = service.emit(session, EventType.entry_submitted, "entry.submitted:1:v2", data)
    row.status, row.attempts, row.last_error = DeliveryStatus.dead, 8, "HTTP 503"
    session.commit()
    dead = client.get("/api/v1/notify/deliveries?status=dead", headers=admin_headers).json()
    assert dead["count"] == 1 and dead["data"][0]["last_error"] == "HTTP 503"
    r = client.post(f"/api/v1/notify/deliveries/{row.id}/retry", headers=admin_headers)
    assert r.status_code == 200
    session.expire_all()
    again = session.exec(select(OutboxDelivery)).one()
    assert (again.status, again.attempts, again.last_error) == ("pending", 0, "")
    missing = client.post("/api/v1/notify/deliveries/999/retry", headers=admin_headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
