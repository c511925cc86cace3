"""Threat: a caller without the right role (or with a revoked or foreign-origin key) gets an
answer it should not. Walks the live OpenAPI document, so new routes are covered by default.

Roles: anonymous, revoked key, widget key from another origin, widget key without an origin,
viewer, editor of another department, reviewer, admin.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.api.test_route_guards import (
    OPEN_READS,
    OPEN_WRITES,
    VIEWER_WRITES,
    WIDGET_WRITES,
    WRITE_METHODS,
    _operations,
    _url,
)

PRIVILEGED = ("reviewer", "admin", "editor, other department")


def _key(session: Session, name: str, role: Role, **kw: Any) -> dict[str, str]:
    _row, key = auth_service.create_api_key(session, name=name, role=role, **kw)
    session.commit()
    return {"X-API-Key": key}


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    body = None if method == "get" else {}
    return client.request(method.upper(), url, json=body, headers=headers).status_code


def test_role_route_matrix(client: TestClient, session: Session) -> None:
    revoked = _key(session, "revoked", Role.editor)
    auth_service.revoke_api_key(session, ident="revoked")
    session.commit()
    widget = _key(session, "widget", Role.widget, origins=["http://127.0.0.1:8000"])
    roles: dict[str, dict[str, str]] = {
        "anonymous": {},
        "revoked key": revoked,
        "widget, other origin": {**widget, "Origin": "http://evil.example"},
        "widget, no origin": widget,
        "viewer": _key(session, "viewer", Role.viewer),
        "editor, other department": _key(session, "ed", Role.editor, departments=["设备科"]),
        "reviewer": _key(session, "rev", Role.reviewer),
        "admin": _key(session, "adm", Role.admin),
    }
    wrong: list[str] = []
    requests = 0
    for method, path, op in _operations(client.app):
        if not path.startswith("/api/") or path in OPEN_READS or (method, path) in OPEN_WRITES:
            continue
        url = _url(path, op)
        for role, headers in roles.items():
            # Privileged writes with dummy bodies could start real work (backups, reindex):
            # those roles are checked on reads only; refusal is what the matrix is about.
            if method in WRITE_METHODS and role in (
                "reviewer",
                "admin",
                "editor, other department",
            ):
                continue
            status = _call(client, method, url, headers)
            requests += 1
            if status >= 500:
                wrong.append(f"{role}: {method.upper()} {path} -> {status}")
            elif role in ("anonymous", "revoked key") and status != 401:
                wrong.append(f"{role}: {method.upper()} {path} -> {status} (want 401)")
            elif role == "widget, other origin" and status < 400:
                wrong.append(f"{role}: {method.upper()} {path} -> {status} (want refusal)")
            elif (
                role in ("viewer", "widget, no origin")
                and method in WRITE_METHODS
                and (method, path) not in WIDGET_WRITES
                and not (role == "viewer" and (method, path) in VIEWER_WRITES)
                and status < 400
            ):
                wrong.append(f"{role}: {method.upper()} {path} -> {status} (write allowed)")
    print(f"role x route matrix: {requests} requests")
    assert requests > 300 and not wrong, (requests, wrong)
