"""Request body size (413) and time (408) limits: Content-Length up front, bytes as they come."""

from __future__ import annotations

import time

import anyio
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_json
from kbsvc.config import Settings

LARGE_BODY_FLAG = "x-kbsvc-large-body"


class BodyTooLarge(HTTPException):
    """Raised from `receive` once a body passes its limit; FastAPI lets HTTPException through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")
        self.limit = limit


class BodyTimeout(HTTPException):
    """Raised from `receive` when a body trickles in past limits.body_timeout_s (408, closed)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"请求正文在 {seconds:g} 秒内未发送完毕，连接已关闭 (request body too slow)",
            headers={"Connection": "close"},
        )


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Checks Content-Length up front and counts streamed bytes; import routes get more room.

    A route gets the import limit when its path ends in `/import` or it declares
    `openapi_extra={"x-kbsvc-large-body": True}`; every other route gets max_body_bytes.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.body_timeout_s = settings.limits.body_timeout_s
        self.default = settings.limits.max_body_bytes
        self.large = max(settings.limits.max_import_bytes, self.default)

    def limit_for(self, scope: Scope) -> int:
        route = scope.get("route")
        if route is None:
            return self.large  # not routed yet: only the hard ceiling is known
        extra = getattr(route, "openapi_extra", None) or {}
        if str(getattr(route, "path", "")).endswith("/import") or extra.get(LARGE_BODY_FLAG):
            return self.large
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.large:
            await _too_large(self.large)(scope, receive, send)
            return
        received = 0
        started = False
        body_done = False
        # A client trickling its body holds a worker's request open: the whole body must
        # arrive within body_timeout_s of the headers (waits for a disconnect are not timed).
        deadline = time.monotonic() + self.body_timeout_s

        async def limited_receive() -> Message:
            nonlocal received, body_done
            limit = self.limit_for(scope)  # routing is done by the time the body is read
            if length is not None and length > limit:
                raise BodyTooLarge(limit)
            if body_done:
                return await receive()
            try:
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self.body_timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except BodyTooLarge as exc:
            if started:
                raise
            await _too_large(exc.limit)(scope, receive, send)
        except BodyTimeout as exc:  # raised outside the app (the login bucket peeks the body)
            if started:
                raise
            closing = {"Connection": "close"}
            await error_json(408, "http_408", exc.detail, headers=closing)(scope, receive, send)


def _too_large(limit: int) -> JSONResponse:
    return error_json(
        413, "too_large", f"request body larger than {limit} bytes", {"max_bytes": limit}
    )
