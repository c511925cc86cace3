"""Body size (413), text lengths (422), page caps and rate limits (429 + Retry-After)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from kbsvc.config import KeyRate, Settings


def _client(settings: Settings, engine: Engine) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(settings, db_engine=engine))


def test_body_limit_by_length_and_by_stream(
    settings: Settings, engine: Engine, editor_headers: dict[str, str]
) -> None:
    settings.limits.max_body_bytes = 2048
    settings.limits.max_import_bytes = 8192
    from api.app import create_app

    app = create_app(settings, db_engine=engine)

    @app.post("/api/v1/zz/import")
    async def fake_import(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    big = {"title": "x", "symptom": "慢" * 2000}
    with TestClient(app) as client:
        r = client.post("/api/v1/entries", json=big, headers=editor_headers)
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        assert r.json()["details"]["max_bytes"] == 2048

        def chunks() -> Iterator[bytes]:
            yield b'{"title": "x", "symptom": "'
            for _ in range(10):
                yield b"a" * 500
            yield b'"}'

        r = client.post(
            "/api/v1/entries",
            content=chunks(),
            headers={**editor_headers, "Content-Type": "application/json"},
        )
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        # Import routes get the larger limit, and still have one.
        r = client.post("/api/v1/zz/import", content=b"a" * 6000, headers=editor_headers)
        assert r.status_code == 200 and r.json() == {"bytes": 6000}
        r = client.post("/api/v1/zz/import", content=b"a" * 9000, headers=editor_headers)
        assert r.status_code == 413


def test_text_fields_and_page_size_capped(
    client: TestClient, editor_headers: dict[str, str]
) -> None:
    too_long = "慢" * (Settings().limits.max_text_chars + 1)
    r = client.post(
        "/api/v1/entries", json={"title": "x", "solution": too_long}, headers=editor_headers
    )
    assert r.status_code == 422 and "at most" in r.json()["message"]
    r = client.post(
        "/api/v1/tickets", json={"source": "s", "symptom": too_long}, headers=editor_headers
    )
    assert r.status_code == 422
    r = client.get("/api/v1/entries", params={"limit": 10_000}, headers=editor_headers)
    assert r.status_code == 422
    r = client.get(f"/api/v1/entries/{2**63}", headers=editor_headers)
    assert r.status_code == 422 and "out of range" in r.json()["message"]


def test_paginated_routes_declare_caps(app) -> None:  # type: ignore[no-untyped-def]
    """Every `limit`/`k`/`page_size`/`offset` query parameter has a maximum, on every route."""
    missing = []
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                if p["name"] in {"limit", "k", "page_size", "top_k", "offset"}:
                    schema = p.get("schema", {})
                    options = [schema, *schema.get("anyOf", [])]
                    if not any("maximum" in s for s in options):
                        missing.append(f"{method.upper()} {path} ?{p['name']}")
    assert not missing, f"uncapped: {missing}"


def test_rate_limit_per_key_with_retry_after(
    settings: Settings,
    engine: Engine,
    viewer_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    settings.rate_limit.paths = ["/api/v1/entries"]
    settings.rate_limit.keys["viewer"] = KeyRate(per_minute=6, burst=2)
    with _client(settings, engine) as client:
        codes = [
            client.get("/api/v1/entries", headers=viewer_headers).status_code for _ in range(3)
        ]
        assert codes == [200, 200, 429]
        r = client.get("/api/v1/entries", headers=viewer_headers)
        assert r.json()["code"] == "rate_limited" and 1 <= int(r.headers["Retry-After"]) <= 10
        # Another key has its own bucket; other paths are not limited.
        assert client.get("/api/v1/entries", headers=editor_headers).status_code == 200
        assert client.get("/api/v1/tickets", headers=viewer_headers).status_code == 200


def test_login_attempts_limited(settings: Settings, engine: Engine) -> None:
    settings.rate_limit.login_per_minute = 3
    with _client(settings, engine) as client:
        codes = [
            client.post(
                "/api/v1/auth/login", json={"username": "x", "password": "guess-guess"}
            ).status_code
            for _ in range(4)
        ]
    assert codes == [401, 401, 401, 429]
