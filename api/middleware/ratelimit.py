"""Per-caller token buckets on the costly paths (429 with Retry-After)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_json
from kbsvc.auth.keycache import KeyCache
from kbsvc.auth.models import Principal
from kbsvc.auth.sessions import SESSION_COOKIE
from kbsvc.config import Settings, burst_for


async def _key_principal(scope: Scope, key: str) -> Principal | None:
    """The key's principal from the app's key cache; a lookup it must make runs off the loop."""
    cache: KeyCache = scope["app"].state.key_cache
    found = cache.cached(key)
    if found is not None:
        return found
    return await anyio.to_thread.run_sync(cache.principal, key)


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


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimitMiddleware:
    """Token buckets on settings.rate_limit.paths, and per client address on login.

    Who shares a bucket: an API key alone (an integration's servers share its rate); a widget
    key per key and browser address (every browser of a hospital uses the one key); a login
    session; a caller without credentials per address. An API key's rate is its own
    `rate_per_minute`, else its role's (settings.rate_limit.keys). Addresses are the real
    clients behind trusted proxies (api.middleware.clientip).
    """

    LOGIN = "/api/v1/auth/login"
    MAX_BUCKETS = 50_000

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        rl = settings.rate_limit
        self.paths = tuple(p.rstrip("/") for p in rl.paths)
        self.rate, self.burst = rl.per_minute / 60.0, float(rl.burst)
        self.keys = rl.keys
        self.login_rate, self.login_burst = rl.login_per_minute / 60.0, float(rl.login_per_minute)
        self.buckets: dict[str, _Bucket] = {}

    async def _bucket(self, scope: Scope) -> tuple[str, float, float]:
        """(bucket name, tokens a second, depth) for a request on a limited path."""
        headers = dict(scope.get("headers") or [])
        key = headers.get(b"x-api-key") or b""
        auth = headers.get(b"authorization", b"")
        if not key and auth[:7].lower() == b"bearer ":
            key = auth[7:].strip()
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        if key:
            principal = await _key_principal(scope, key.decode("latin-1").strip())
            if principal is not None and principal.role is not None:
                role = principal.role.value
                limit = self.keys[role]  # type: ignore[index]
                per_minute = principal.rate_per_minute or limit.per_minute
                burst = burst_for(per_minute) if principal.rate_per_minute else limit.depth()
                name = f"key:{principal.id}"
                if role == "widget":
                    name += f":{ip}"
                return name, per_minute / 60.0, float(burst)
            # An unknown or revoked key is refused by authentication; limit it like a stranger.
            return "ip:" + ip, self.rate, self.burst
        cookie = headers.get(b"cookie", b"").decode("latin-1")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and value:
                return "session:" + hashlib.sha256(value.encode()).hexdigest()[:24], *self._people
        return "ip:" + ip, *self._people

    @property
    def _people(self) -> tuple[float, float]:
        return self.rate, self.burst

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
            wait = self._take(*await self._bucket(scope))
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
