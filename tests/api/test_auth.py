"""Login sessions with CSRF, API keys, widget origins and CORS."""

from __future__ import annotations

import stat

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings

ENTRY = {"title": "自助机无法打印发票", "symptom": "门诊自助机缴费后发票打不出"}


def _login(client: TestClient, session: Session, role: Role = Role.editor) -> str:
    auth_service.create_user(session, username="zhangsan", role=role, password="s3cret-pass")
    session.commit()
    r = client.post("/api/v1/auth/login", json={"username": "zhangsan", "password": "s3cret-pass"})
    assert r.status_code == 200, r.text
    assert r.json()["role"] == role.value and r.json()["csrf_token"]
    return str(r.json()["csrf_token"])


def test_login_then_write_needs_csrf(client: TestClient, session: Session) -> None:
    csrf = _login(client, session)
    cookie = client.cookies.get("kbsvc_session")
    assert cookie and client.cookies.get("kbsvc_csrf") == csrf
    assert client.get("/api/v1/entries").status_code == 200  # reads need no token
    r = client.post("/api/v1/entries", json=ENTRY)
    assert r.status_code == 403 and "CSRF" in r.json()["message"]
    r = client.post("/api/v1/entries", json=ENTRY, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403
    r = client.post("/api/v1/entries", json=ENTRY, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["created_by"] == "user:zhangsan"
    me = client.get("/api/v1/auth/me").json()
    assert me["name"] == "zhangsan" and me["csrf_token"] == csrf


def test_session_cookie_flags(client: TestClient, session: Session) -> None:
    auth_service.create_user(session, username="lisi", role=Role.viewer, password="s3cret-pass")
    session.commit()
    r = client.post("/api/v1/auth/login", json={"username": "lisi", "password": "s3cret-pass"})
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("kbsvc_session="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    csrf_cookie = next(c for c in cookies if c.startswith("kbsvc_csrf="))
    assert "HttpOnly" not in csrf_cookie


def test_logout_ends_the_session_server_side(client: TestClient, session: Session) -> None:
    csrf = _login(client, session)
    cookie = client.cookies.get("kbsvc_session")
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    client.cookies.set("kbsvc_session", cookie or "")  # a stolen copy of the cookie
    assert client.get("/api/v1/auth/me").status_code == 401
    assert client.get("/api/v1/entries").status_code == 401


def test_wrong_password_and_unknown_user_look_alike(client: TestClient, session: Session) -> None:
    auth_service.create_user(session, username="wangwu", role=Role.admin, password="s3cret-pass")
    session.commit()
    a = client.post("/api/v1/auth/login", json={"username": "wangwu", "password": "nope-nope"})
    b = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "nope-nope"})
    assert a.status_code == b.status_code == 401
    assert a.json()["message"] == b.json()["message"]
    assert "kbsvc_session" not in client.cookies


def test_tampered_cookie_is_anonymous(client: TestClient, session: Session) -> None:
    _login(client, session)
    good = client.cookies.get("kbsvc_session") or ""
    client.cookies.clear()
    client.cookies.set("kbsvc_session", good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert client.get("/api/v1/entries").status_code == 401


def test_api_keys_need_no_csrf_and_revoked_keys_fail(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    row, key = auth_service.create_api_key(session, name="sync", role=Role.editor)
    session.commit()
    assert client.post("/api/v1/entries", json=ENTRY, headers={"X-API-Key": key}).status_code == 201
    revoked = client.post(f"/api/v1/admin/api-keys/{row.id}/revoke", headers=admin_headers)
    assert revoked.status_code == 200
    r = client.get("/api/v1/entries", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_widget_key_bound_to_origins(client: TestClient, session: Session) -> None:
    _row, key = auth_service.create_api_key(
        session, name="his-widget", role=Role.widget, origins=["http://his.example.cn:8080"]
    )
    session.commit()
    h = {"X-API-Key": key}
    ok = client.get("/api/v1/auth/me", headers={**h, "Origin": "http://his.example.cn:8080"})
    assert ok.status_code == 200 and ok.json()["role"] == "widget"
    bad = client.get("/api/v1/auth/me", headers={**h, "Origin": "http://evil.example"})
    assert bad.status_code == 403 and "origin" in bad.json()["message"]
    ref = client.get("/api/v1/auth/me", headers={**h, "Referer": "http://evil.example/p"})
    assert ref.status_code == 403
    # A widget key never reaches staff routes, even from its own page.
    r = client.get("/api/v1/entries", headers={**h, "Origin": "http://his.example.cn:8080"})
    assert r.status_code == 403


def test_cors_allows_configured_and_widget_origins_only(
    settings: Settings,
    engine,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    from api.app import create_app

    auth_service.create_api_key(
        session, name="w", role=Role.widget, origins=["http://his.example.cn:8080"]
    )
    session.commit()
    settings.cors_origins = ["http://portal.example.cn"]
    with TestClient(create_app(settings, db_engine=engine)) as client:
        for origin in ("http://portal.example.cn", "http://his.example.cn:8080"):
            pre = client.options(
                "/api/v1/entries",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "content-type, x-api-key",
                },
            )
            assert pre.status_code == 204, pre.text
            assert pre.headers["access-control-allow-origin"] == origin
            assert "access-control-allow-credentials" not in pre.headers
            r = client.get("/livez", headers={"Origin": origin})
            assert r.headers["access-control-allow-origin"] == origin
        pre = client.options(
            "/api/v1/entries",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert pre.status_code == 403
        r = client.get("/livez", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_secret_is_generated_once_and_private(settings: Settings) -> None:
    from kbsvc.auth.sessions import secret_key

    first = secret_key(settings)
    assert len(first) >= 32 and secret_key(settings) == first
    mode = stat.S_IMODE((settings.data_dir / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_open_reads_never_open_writes(settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app

    settings.open_reads = True
    with TestClient(create_app(settings, db_engine=engine)) as client:
        assert client.get("/api/v1/entries").status_code == 200
        assert client.post("/api/v1/entries", json=ENTRY).status_code == 401
