"""Request body size limit (413) and per-caller token buckets on costly paths (429)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass

import anyio
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_json
from kbsvc.auth.sessions import SESSION_COOKIE
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


LOGIN_PEEK_BYTES = 16 * 1024


async def _peek_username(receive: Receive) -> tuple[Receive, str]:
    """Read a (small) login body ahead of the route and hand it on unchanged."""
    messages: list[Message] = []
    body = b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False) or len(body) > LOGIN_PEEK_BYTES:
            break
    username = ""
    if len(body) <= LOGIN_PEEK_BYTES:
        try:
            data = json.loads(body)
            username = str(data.get("username", ""))[:64] if isinstance(data, dict) else ""
        except ValueError:
            username = ""

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay, username


def _too_large(limit: int) -> JSONResponse:
    return error_json(
        413, "too_large", f"request body larger than {limit} bytes", {"max_bytes": limit}
    )


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimitMiddleware:
    """Token bucket per caller on settings.rate_limit.paths, and per client IP on login."""

    LOGIN = "/api/v1/auth/login"
    MAX_BUCKETS = 50_000

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        rl = settings.rate_limit
        self.paths = tuple(p.rstrip("/") for p in rl.paths)
        self.rate, self.burst = rl.per_minute / 60.0, float(rl.burst)
        self.login_rate, self.login_burst = rl.login_per_minute / 60.0, float(rl.login_per_minute)
        self.buckets: dict[str, _Bucket] = {}

    def _identity(self, scope: Scope) -> str:
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"x-api-key") or b""
        auth = headers.get(b"authorization", b"")
        if not key and auth[:7].lower() == b"bearer ":
            key = auth[7:].strip()
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if key:
            # A widget key is shared by every browser on the page: bucket per key and address.
            return f"key:{hashlib.sha256(key).hexdigest()[:24]}:{ip}"
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value:
                return "session:" + hashlib.sha256(value.encode()).hexdigest()[:24]
        return "ip:" + ip

    @staticmethod
    def _ambiguous(scope: Scope) -> str:
        """The credential sent more than once, if any ('' when each appears at most once).

        The limiter and authentication must key on the same value; with two X-API-Key headers
        or two session cookies one could be counted while the other is authenticated.
        """
        seen: dict[str, int] = {}
        for name, value in scope.get("headers") or []:
            if name in (b"x-api-key", b"authorization"):
                seen[name.decode()] = seen.get(name.decode(), 0) + 1
            elif name == b"cookie":
                for part in value.decode("latin-1").split(";"):
                    if part.strip().partition("=")[0] == SESSION_COOKIE:
                        seen[SESSION_COOKIE] = seen.get(SESSION_COOKIE, 0) + 1
        return next((name for name, n in seen.items() if n > 1), "")

    def _take(self, name: str, rate: float, burst: float) -> float:
        """0 when a token was taken, else seconds until one is available."""
        now = time.monotonic()
        bucket = self.buckets.get(name)
        if bucket is None:
            if len(self.buckets) >= self.MAX_BUCKETS:
                self.buckets.clear()  # crude but bounded: a flood of identities resets buckets
            bucket = self.buckets[name] = _Bucket(burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        twice = self._ambiguous(scope)
        if twice:
            response = error_json(
                400,
                "ambiguous_credentials",
                f"{twice} was sent more than once; send one credential per request",
                {"credential": twice},
            )
            await response(scope, receive, send)
            return
        path = scope.get("path", "").rstrip("/")
        wait = 0.0
        if path == self.LOGIN and scope.get("method") == "POST":
            receive, username = await _peek_username(receive)
            client = scope.get("client")
            ip = client[0] if client else "unknown"
            # Per (address, account): a ward sharing one NAT address is not throttled as one
            # caller, so guessing at one account does not slow everyone else's login. The
            # address as a whole gets ten times that (spraying many accounts from one place).
            wait = self._take(f"login:{ip}", self.login_rate * 10, self.login_burst * 10)
            if not wait:
                wait = self._take(f"login:{ip}:{username}", self.login_rate, self.login_burst)
        elif any(path == p or path.startswith(p + "/") for p in self.paths):
            wait = self._take(self._identity(scope), self.rate, self.burst)
        if wait > 0:
            retry = max(1, math.ceil(wait))
            response = error_json(
                429,
                "rate_limited",
                f"请求过于频繁，请 {retry} 秒后再试 (too many requests; retry in {retry} s)",
                {"retry_after": retry},
                headers={"Retry-After": str(retry)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
