"""Every route in the OpenAPI document refuses callers without the role it needs.

New routes are covered automatically: a write route without an Editor/Reviewer/Admin (or
WidgetOrViewer) dependency fails here. Exceptions are listed with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

WRITE_METHODS = {"post", "put", "patch", "delete"}

# Write routes anyone may call, and why.
OPEN_WRITES = {
    ("post", "/api/v1/auth/login"): "it is how a person authenticates",
    ("post", "/api/v1/auth/logout"): "it only ends the caller's own session (CSRF-checked)",
    ("post", "/api/v1/hooks/{name}"): "a helpdesk's HMAC signature authenticates it (401 without)",
}
# Write routes a widget key (and so a viewer) may call: they record reads, not knowledge.
WIDGET_WRITES = {
    ("post", "/api/v1/suggest"): "suggestions while typing a ticket (a read over POST)",
    ("post", "/api/v1/entries/{entry_id}/citations"): "the engineer marks the entry that solved "
    "the ticket (hidden entries answer 404)",
    ("post", "/api/v1/entries/{entry_id}/feedback"): "helpful / not helpful on a result",
    ("post", "/api/v1/search-log/{log_id}/clicks"): "which result of a search was opened",
    ("post", "/api/v1/widget/capture"): "存为知识: the host ticket becomes a draft awaiting review "
    "(viewers get 403, see tests/api/test_widget_capture.py)",
}
# Write routes a viewer (not a widget key) may call: they start a read, not a change.
VIEWER_WRITES = {
    ("post", "/api/v1/handbooks/{handbook_id}/exports"): "a background export of a handbook "
    "(a read: the file holds only what the caller may see; tests/api/test_handbook_jobs.py)",
}
# Reads open without a key, and why.
OPEN_READS = {
    "/livez": "liveness probe",
    "/readyz": "readiness probe",
    "/metrics": "Prometheus scrape",
    "/api/v1/auth/me": "answers 401 itself when nobody is logged in",
}


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    ops = []
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            if method in WRITE_METHODS | {"get"}:
                ops.append((method, path, op))
    return ops


def _url(path: str, op: dict[str, Any]) -> str:
    """The path with dummy values of the right type for its parameters."""
    kinds = {
        p["name"]: p.get("schema", {}).get("type")
        for p in op.get("parameters", [])
        if p.get("in") == "path"
    }
    return re.sub(
        r"\{([^}]+)\}", lambda m: "1" if kinds.get(m.group(1)) == "integer" else "x", path
    )


def _call(client: TestClient, method: str, url: str, headers: dict[str, str]) -> int:
    if method == "get":
        return client.get(url, headers=headers).status_code
    return client.request(method.upper(), url, json={}, headers=headers).status_code


def test_there_are_write_routes_to_check(app: Any) -> None:
    assert sum(1 for m, _p, _o in _operations(app) if m in WRITE_METHODS) >= 3


def unguarded_writes(
    client: TestClient, viewer_headers: dict[str, str], widget_headers: dict[str, str]
) -> list[str]:
    """Write routes that let anonymous, viewer or widget callers through."""
    problems = []
    for method, path, op in _operations(client.app):
        if method not in WRITE_METHODS or (method, path) in OPEN_WRITES:
            continue
        url = _url(path, op)
        status = _call(client, method, url, {})
        if status not in (401, 403):
            problems.append(f"anonymous {method.upper()} {path} -> {status}")
        if (method, path) in WIDGET_WRITES:
            continue
        for who, headers in (("viewer", viewer_headers), ("widget", widget_headers)):
            if who == "viewer" and (method, path) in VIEWER_WRITES:
                continue
            status = _call(client, method, url, headers)
            if status != 403:
                problems.append(f"{who} {method.upper()} {path} -> {status}")
    return problems


def test_write_routes_refuse_anonymous_and_viewer(
    client: TestClient, viewer_headers: dict[str, str], widget_headers: dict[str, str]
) -> None:
    problems = unguarded_writes(client, viewer_headers, widget_headers)
    assert not problems, "write routes without a role check:\n" + "\n".join(problems)


def test_the_walk_catches_an_unguarded_route(
    app: Any, viewer_headers: dict[str, str], widget_headers: dict[str, str]
) -> None:
    def forgotten(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    app.router.add_api_route("/api/v1/forgotten/{item_id}", forgotten, methods=["POST"])
    with TestClient(app) as client:
        problems = unguarded_writes(client, viewer_headers, widget_headers)
    assert any("/api/v1/forgotten/{item_id}" in p for p in problems)


def test_api_reads_refuse_anonymous(client: TestClient) -> None:
    problems = []
    for method, path, op in _operations(client.app):
        if method != "get" or path in OPEN_READS or not path.startswith("/api/"):
            continue
        status = _call(client, method, _url(path, op), {})
        if status != 401:
            problems.append(f"anonymous GET {path} -> {status}")
    assert not problems, "API reads open without a key:\n" + "\n".join(problems)


def test_no_write_route_hides_from_the_walk() -> None:
    """Routes left out of the OpenAPI document escape the walk above: no writes among them."""
    from fastapi.routing import APIRoute

    from api.app import ROUTERS

    hidden = [
        f"{sorted(r.methods)} {r.path}"
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute)
        and not r.include_in_schema
        and {m.lower() for m in r.methods} & WRITE_METHODS
    ]
    assert hidden == [], f"write routes outside the OpenAPI document: {hidden}"
