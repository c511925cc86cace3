"""Threat: another site makes a signed-in person's browser write (cross-site request forgery).

Defence (double submit): every cookie-authenticated write must carry the session's CSRF token
in X-CSRF-Token (or the `csrf_token` form field); the token is only readable by our own pages.
Walks every write route of the live OpenAPI document, so new routes are covered by default.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.api.test_route_guards import WRITE_METHODS, _operations, _url

# Writes that no session cookie authenticates, and why.
NOT_COOKIE_WRITES = {
    ("post", "/api/v1/auth/login"): "it opens the session; it acts on no one's behalf",
    ("post", "/api/v1/hooks/{name}"): "authenticated by the helpdesk's HMAC signature only",
}


def _forged(client: TestClient, method: str, url: str, how: str) -> tuple[int, str]:
    if how == "no token":
        r = client.request(method.upper(), url, json={})
    elif how == "wrong token":
        r = client.request(method.upper(), url, json={}, headers={"X-CSRF-Token": "forged"})
    elif how == "form without token":  # what a plain cross-site <form> can send
        r = client.request(method.upper(), url, data={"title": "x"})
    else:  # a token in the form field that is not the session's
        r = client.request(method.upper(), url, data={"csrf_token": "forged", "title": "x"})
    message = (
        r.json().get("message", "")
        if r.headers.get("content-type", "").startswith("application/json")
        else ""
    )
    return r.status_code, message


def test_every_cookie_write_refuses_a_missing_or_wrong_csrf_token(
    client: TestClient, session: Session
) -> None:
    """Every write route answers 403 (before any work) to a signed-in admin's cookie without
    the session's token: no token, a wrong token, a form without a token, a forged field."""
    auth_service.create_user(session, username="boss", role=Role.admin, password="s3cret-pass")
    session.commit()
    r = client.post("/api/v1/auth/login", json={"username": "boss", "password": "s3cret-pass"})
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    wrong: list[str] = []
    requests = routes = 0
    for method, path, op in _operations(client.app):
        if method not in WRITE_METHODS or (method, path) in NOT_COOKIE_WRITES:
            continue
        routes += 1
        url = _url(path, op)
        for how in ("no token", "wrong token", "form without token", "forged form field"):
            status, message = _forged(client, method, url, how)
            requests += 1
            if status != 403 or "CSRF" not in message:
                wrong.append(f"{how}: {method.upper()} {path} -> {status} {message[:60]}")
    print(f"CSRF: {routes} cookie write routes, {requests} forged requests")
    assert routes >= 50 and not wrong, wrong
    # The session is still good, and the right token passes (logout, the harmless write).
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
