"""Outermost middleware: real client address, request id, access log, latency metrics and
security headers."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import request_id_var
from api.middleware import clientip

log = logging.getLogger("kbsvc.access")
_RID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Pages that must be embeddable or load third-party-hosted assets get their own rules.
_FRAMEABLE = ("/widget.js", "/demo")
_DOCS = ("/docs", "/redoc")


def route_template(scope: Scope) -> str:
    """The matched route's path template (a bounded label set), or 'unmatched'."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    if path:
        return str(path)
    if scope.get("endpoint") is not None:
        # A plain Starlette route (openapi.json, docs): without parameters path == template.
        return str(scope.get("path", "")) if not scope.get("path_params") else "other"
    return "unmatched"


def _csp(path: str, nonce: str) -> str:
    if path.startswith(_DOCS):
        cdn = "https://cdn.jsdelivr.net"
        return (
            f"default-src 'self'; script-src 'self' 'unsafe-inline' {cdn}; "
            f"style-src 'self' 'unsafe-inline' {cdn}; img-src 'self' data: "
            "https://fastapi.tiangolo.com; frame-ancestors 'none'"
        )
    policy = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    )
    if not path.startswith(_FRAMEABLE):
        policy += "; frame-ancestors 'none'"
    return policy


_WORKER = str(os.getpid())


class RequestContextMiddleware:
    """Sets X-Request-ID in and out, logs one line per request, observes latency."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str] = ()) -> None:
        self.app = app
        self.trusted = clientip.networks(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        clientip.rewrite(scope, self.trusted)
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = given if _RID.match(given) else uuid.uuid4().hex
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state["request_id"] = rid
        state["csp_nonce"] = nonce  # templates: <script nonce="{{ request.state.csp_nonce }}">
        token = request_id_var.set(rid)
        path: str = scope.get("path", "")
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                h = MutableHeaders(scope=message)
                h["X-Request-ID"] = rid
                h["X-Kbsvc-Worker"] = _WORKER  # which worker answered (each maps its index)
                h.setdefault("X-Content-Type-Options", "nosniff")
                h.setdefault("Referrer-Policy", "same-origin")
                if not path.startswith(_FRAMEABLE):
                    h.setdefault("X-Frame-Options", "DENY")
                if h.get("content-type", "").startswith("text/html"):
                    h.setdefault("Content-Security-Policy", _csp(path, nonce))
                if path.startswith("/api/"):
                    # Hospital data: never kept by shared caches or the browser's disk cache.
                    h.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            metrics = getattr(getattr(scope.get("app"), "state", None), "metrics", None)
            if metrics is not None:
                metrics.observe(scope.get("method", ""), route, status, elapsed)
            principal = state.get("principal")
            client = scope.get("client")
            # Path without its query string: queries carry symptom text.
            log.info(
                "%s %s %s",
                scope.get("method"),
                route,
                status,
                extra={
                    "request_id": rid,
                    "method": scope.get("method"),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                    "actor": getattr(principal, "label", None),
                    "client": client[0] if client else None,
                },
            )
            request_id_var.reset(token)
