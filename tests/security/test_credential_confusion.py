"""Threat: a caller sends two credentials so the rate limiter counts one and auth uses the other."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role


def test_duplicate_credentials_are_refused(client: TestClient, session: Session) -> None:
    """Regression: the limiter keyed on the last X-API-Key and the first session cookie,
    authentication on the first header and the last cookie: limits were bypassed."""
    _r, a = auth_service.create_api_key(session, name="a", role=Role.viewer)
    _r, b = auth_service.create_api_key(session, name="b", role=Role.viewer)
    session.commit()
    cases = [
        [("X-API-Key", a), ("X-API-Key", b)],
        [("Authorization", f"Bearer {a}"), ("Authorization", f"Bearer {b}")],
        [("Cookie", "kbsvc_session=one; kbsvc_session=two")],
        [("Cookie", "kbsvc_session=one"), ("Cookie", "kbsvc_session=two")],
    ]
    for headers in cases:
        for url in ("/api/v1/search?q=打印", "/api/v1/entries", "/api/v1/auth/login"):
            r = client.get(url, headers=headers)
            assert r.status_code == 400, (headers, url, r.status_code)
            assert r.json()["code"] == "ambiguous_credentials"
    ok = client.get("/api/v1/entries", headers=[("X-API-Key", a), ("Cookie", "other=1")])
    assert ok.status_code == 200
