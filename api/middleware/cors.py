"""CORS with explicit origins only: settings.cors_origins plus the origins of active keys."""

from __future__ import annotations

import time

import anyio
from sqlmodel import Session
from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_json
from kbsvc.auth.service import active_origins
from kbsvc.config import Settings

ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOW_HEADERS = {"authorization", "x-api-key", "content-type", "x-request-id"}
EXPOSE_HEADERS = "X-Request-ID, Retry-After"


class DynamicCORSMiddleware:
    """Never sends credentials or '*'; key origins are re-read every `ttl` seconds."""

    def __init__(self, app: ASGIApp, settings: Settings, ttl: float = 10.0) -> None:
        self.app = app
        self.static = {o.rstrip("/").lower() for o in settings.cors_origins}
        self.ttl = ttl
        self._cached: set[str] = set()
        self._cached_at = float("-inf")

    def invalidate(self) -> None:
        """Forget cached key origins (after a key is created or revoked in this process)."""
        self._cached_at = float("-inf")

    async def allowed(self, scope: Scope) -> set[str]:
        if time.monotonic() - self._cached_at > self.ttl:
            db_engine = scope["app"].state.db_engine

            def load() -> set[str]:
                with Session(db_engine) as session:
                    return active_origins(session)

            self._cached = await anyio.to_thread.run_sync(load)
            self._cached_at = time.monotonic()
        return self.static | self._cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        origin = headers.get(b"origin", b"").decode("latin-1").rstrip("/").lower()
        if not origin:
            await self.app(scope, receive, send)
            return
        ok = origin in await self.allowed(scope)
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
            await self._preflight(origin, ok, headers)(scope, receive, send)
            return
        if not ok:
            await self.app(scope, receive, send)  # no CORS headers: the browser blocks the read
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["Access-Control-Allow-Origin"] = origin
                h["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
                h.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_wrapper)

    @staticmethod
    def _preflight(origin: str, ok: bool, headers: dict[bytes, bytes]) -> Response:
        if not ok:
            return error_json(403, "forbidden", f"origin {origin!r} is not allowed")
        wanted = headers.get(b"access-control-request-headers", b"").decode("latin-1")
        asked = {h.strip().lower() for h in wanted.split(",") if h.strip()}
        if asked - ALLOW_HEADERS:
            return error_json(
                403,
                "forbidden",
                "request headers not allowed: " + ", ".join(sorted(asked - ALLOW_HEADERS)),
            )
        return Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOW_METHODS,
                "Access-Control-Allow-Headers": ", ".join(sorted(asked)) or "content-type",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            },
        )
