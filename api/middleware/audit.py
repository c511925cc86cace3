"""Audit every successful write, for every route, present and future, without per-route code.

A route's database writes and their event commit together (api.uow); this middleware stores
the rest (refused logins, writes that touched no session) in their own transaction, holding
the response until the event is stored, so a write the client saw succeed is audited.
Routes may refine an event through `request.state.audit = {"actor"|"object_type"|"object_ids"|
"summary": ...}` (login does, to name the person who tried). A read sent as POST (suggest: the
ticket text is too long for a URL) declares `openapi_extra={READ_FLAG: True}` and is not audited.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.middleware.context import route_template
from kbsvc.auth import audit

log = logging.getLogger("kbsvc.audit")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
HOLD_BYTES = 256 * 1024  # larger responses (exports) are sent on and audited afterwards
AUDITED_FAILURES = {"/api/v1/auth/login": {401}}
AUDITED = "audited"  # scope state flag: the event is already stored
REQUEST_BODY = "audit_request_body"  # scope state: the write's body as received so far
READ_FLAG = "x-kbsvc-read"


def is_read(scope: Scope) -> bool:
    """True for safe methods and for routes that declare READ_FLAG (reads sent as POST)."""
    if scope["method"] in SAFE:
        return True
    extra = getattr(scope.get("route"), "openapi_extra", None) or {}
    return bool(extra.get(READ_FLAG))


def _object_type(template: str) -> str:
    parts = [p for p in template.split("/") if p and not p.startswith("{")]
    if parts[:2] == ["api", "v1"]:
        parts = parts[2:]
    return parts[0] if parts else ""


def _ids_from_body(body: bytes) -> list[str]:
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return []
    items: list[Any] = []
    if isinstance(data, dict):
        items = [data, *(data.get("data") or [] if isinstance(data.get("data"), list) else [])]
    elif isinstance(data, list):
        items = data
    return [str(i["id"]) for i in items if isinstance(i, dict) and "id" in i][:100]


def _summary(request_body: bytes) -> str:
    # Field names only: values carry ticket text and patient details.
    try:
        data = json.loads(request_body) if request_body else None
    except ValueError:
        return ""
    if isinstance(data, dict):
        return "fields: " + ", ".join(sorted(map(str, data)))[:480]
    if isinstance(data, list):
        return f"batch of {len(data)}"
    return ""


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE:
            await self.app(scope, receive, send)
            return
        request_body = bytearray()
        scope.setdefault("state", {})[REQUEST_BODY] = request_body
        held: list[Message] = []
        held_size = 0
        status = 0
        done = False

        async def recv() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < 65536:
                request_body.extend(message.get("body", b""))
            return message

        async def flush() -> None:
            while held:
                await send(held.pop(0))

        async def send_wrapper(message: Message) -> None:
            nonlocal status, held_size, done
            if message["type"] == "http.response.start":
                status = message["status"]
                done = done or is_read(scope)  # routed by now: a read passes straight through
            if done:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body":
                held_size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._record(scope, status, bytes(request_body), held)
                    done = True
                    await flush()
                elif held_size > HOLD_BYTES:
                    done = True
                    await flush()

        await self.app(scope, recv, send_wrapper)
        if held:  # the app ended without a final body message
            await flush()
        elif done and held_size > HOLD_BYTES:
            await self._record(scope, status, bytes(request_body), [])

    async def _record(
        self, scope: Scope, status: int, request_body: bytes, held: list[Message]
    ) -> None:
        if (scope.get("state") or {}).get(AUDITED):
            return  # stored in the request's own transaction (api.uow)
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        fields = event_fields(scope, status, request_body, body)
        if fields is None:
            return
        db_engine = scope["app"].state.db_engine
        try:
            await anyio.to_thread.run_sync(lambda: audit.record(db_engine, **fields))
        except Exception:  # noqa: BLE001 - the write is committed; report, do not hide it
            log.exception("could not store audit event for %s", fields["action"])


def event_fields(
    scope: Scope, status: int, request_body: bytes, response_body: bytes
) -> dict[str, Any] | None:
    """The audit event of a finished write, or None when the request is not audited."""
    if is_read(scope):
        return None
    template = route_template(scope)
    if template == "unmatched":
        return None
    if not (200 <= status < 400 or status in AUDITED_FAILURES.get(template, ())):
        return None
    state = scope.get("state") or {}
    extra: dict[str, Any] = state.get("audit") or {}
    principal = state.get("principal")
    ids = [str(v) for v in (scope.get("path_params") or {}).values()]
    ids += [i for i in _ids_from_body(response_body) if i not in ids]
    return {
        "actor": extra.get("actor") or getattr(principal, "label", "anonymous:anonymous"),
        "role": str(getattr(getattr(principal, "role", None), "value", "") or ""),
        "action": f"{scope['method']} {template}",
        "object_type": extra.get("object_type") or _object_type(template),
        "object_ids": extra.get("object_ids") or ids,
        "status": status,
        "request_id": state.get("request_id", ""),
        "client": (scope.get("client") or ("",))[0],
        "summary": extra.get("summary") or _summary(request_body),
    }
