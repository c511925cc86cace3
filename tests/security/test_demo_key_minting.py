"""Threat: a signed-in viewer mints widget keys (each one a new CORS origin) for any site by
sending the demo page a Host header of their choosing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from kbsvc.auth.models import ApiKey, Role


def _widget_origins(session: Session) -> set[str]:
    session.expire_all()
    rows = session.execute(select(ApiKey).where(ApiKey.role == Role.widget)).scalars()
    return {o for row in rows if not row.revoked for o in row.origins}


def test_a_viewer_cannot_mint_keys_through_the_host_header(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    admin_headers: dict[str, str],
) -> None:
    """Regression: /demo/ticket bound its key to the request's Host, so `Host: evil.example`
    created a widget key (and a CORS origin) for evil.example."""
    before = _widget_origins(session)
    hosts = ["evil.example", "attacker.test:8443", "10.0.0.66", "127.0.0.1:9999"]
    for host in hosts:
        r = client.get("/demo/ticket?ticket=HD-1", headers={**viewer_headers, "Host": host})
        assert r.status_code == 200, (host, r.status_code)
    minted = _widget_origins(session) - before
    assert minted <= {"http://127.0.0.1:8000"}, minted  # only the configured public URL
    # The viewer's page carries the public URL's key: it works from there, nowhere else.
    r = client.get("/demo/ticket?ticket=HD-1", headers={**viewer_headers, "Host": "evil.example"})
    key = r.text.split('data-kbsvc-key="', 1)[1].split('"', 1)[0]
    body = {"text": "打印机卡纸"}
    for origin, status in (("http://127.0.0.1:8000", 200), ("http://evil.example", 403)):
        r = client.post("/api/v1/suggest", json=body, headers={"X-API-Key": key, "Origin": origin})
        assert r.status_code == status, (origin, r.text)
    # An admin (who may create keys for any origin anyway) gets one for the address in use.
    admin = {**admin_headers, "Host": "kb.intranet:8000"}
    r = client.get("/demo/ticket?ticket=HD-1", headers=admin)
    assert r.status_code == 200
    assert "http://kb.intranet:8000" in _widget_origins(session)
