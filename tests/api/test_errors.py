"""Every error is JSON {code, message, details}, unexpected ones and middleware ones too."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send


class _Broken:
    """A middleware that fails on one path, as a bug in a real one would."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v1/middleware-boom":
            raise RuntimeError("middleware bug")
        await self.app(scope, receive, send)


def test_unexpected_exceptions_are_json_500(app: FastAPI) -> None:
    """Regression: an unhandled exception answered a plain-text `Internal Server Error`."""

    @app.get("/api/v1/route-boom")
    def boom() -> None:
        raise RuntimeError("secret detail that must not leak")

    app.add_middleware(_Broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/api/v1/route-boom", "/api/v1/middleware-boom"):
            r = client.get(path, headers={"X-Request-ID": "req-42"})
            assert r.status_code == 500, path
            assert r.headers["content-type"] == "application/json", path
            body = r.json()
            assert body["code"] == "internal_error" and body["message"]
            assert "secret detail" not in r.text and "middleware bug" not in r.text
        # Inside the request-context middleware the id ties the answer to the server log.
        assert client.get("/api/v1/route-boom", headers={"X-Request-ID": "req-42"}).json()[
            "details"
        ] == {"request_id": "req-42"}


def test_500_is_declared_in_openapi(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/v1/suggest"]["post"]
    assert "500" in op["responses"]
