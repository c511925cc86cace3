"""One pass over each request before any work: NUL characters and deeply nested JSON (422).

NUL (U+0000) in the path, the query or a JSON or form body is refused: SQLite stores it,
PostgreSQL text cannot hold it (the driver's error surfaced as a misleading "a number is out of
range"), so one rule at the edge gives one answer on both. No ticket text, title or query
legitimately contains one. JSON nested deeper than MAX_DEPTH is refused while it streams in,
before the parser recurses (it answered a vague 400 at ≈1,000 levels). File uploads
(multipart: XLSX is a zip) are the importer's business and pass through.
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_json

NUL_MESSAGE = "请求中含有空字符（NUL，U+0000），请删除后重试"
MAX_DEPTH = 32  # our deepest schema (a handbook's selection) nests 4 levels
DEPTH_MESSAGE = f"JSON 嵌套超过 {MAX_DEPTH} 层，无法处理"


class BadBody(HTTPException):
    """Raised from `receive` when a body chunk breaks a rule; translated in api.errors."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(422, message)
        self.reason = reason


def refused(exc: BadBody) -> JSONResponse:
    """The JSON answer for a refused body."""
    return error_json(422, "validation_failed", exc.detail, {"reason": exc.reason})


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth is all that matters: {} counts as []
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def check_json(data: bytes) -> None:
    r"""Raise BadBody for a NUL (raw, or an unescaped `\u0000`) or nesting past MAX_DEPTH.

    C-speed passes only (a 2 MB body in milliseconds to ≈0.1 s): strings are dropped, the
    rest reduced to brackets, then innermost pairs are removed MAX_DEPTH times (one level per
    pass); a pair still left was nested deeper.
    """
    if b"\x00" in data or (b"\\u0000" in data and _ESCAPED_NUL.search(data)):
        raise BadBody(NUL_MESSAGE, "nul_character")
    if data.count(b"[") + data.count(b"{") <= MAX_DEPTH:
        return
    skeleton = _STRING.sub(b"", data).translate(_ONE_KIND, _NOT_BRACKETS)
    for _level in range(MAX_DEPTH):
        skeleton = skeleton.replace(b"[]", b"")
        if not skeleton:
            return
    if b"[]" in skeleton:  # (unbalanced text is left to the JSON parser)
        raise BadBody(DEPTH_MESSAGE, "too_deep")


class JsonScan:
    """Collects a JSON body as it streams in and checks it when the last chunk arrives."""

    def __init__(self) -> None:
        self.body = bytearray()

    def feed(self, chunk: bytes, last: bool) -> None:
        self.body += chunk
        if last:
            check_json(bytes(self.body))


def json_has_nul(data: bytes) -> bool:
    """True when JSON text holds a NUL (raw, or a `\\u0000` escape)."""
    try:
        check_json(data)
    except BadBody as exc:
        return exc.reason == "nul_character"
    return False


class FormScan:
    def feed(self, chunk: bytes, last: bool) -> None:
        if b"%00" in chunk or b"\x00" in chunk:  # (a split "%0" "0" is not worth the state)
            raise BadBody(NUL_MESSAGE, "nul_character")


class BodyScanMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = (scope.get("raw_path") or b"") + b"?" + (scope.get("query_string") or b"")
        if b"%00" in target or b"\x00" in target:
            await refused(BadBody(NUL_MESSAGE, "nul_character"))(scope, receive, send)
            return
        ctype = dict(scope.get("headers") or []).get(b"content-type", b"").lower()
        scan: JsonScan | FormScan
        if b"json" in ctype:
            scan = JsonScan()
        elif ctype.startswith(b"application/x-www-form-urlencoded"):
            scan = FormScan()
        else:
            await self.app(scope, receive, send)
            return

        async def scanned() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                scan.feed(message.get("body", b""), not message.get("more_body", False))
            return message

        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, scanned, send_wrapper)
        except BadBody as exc:  # read by a middleware inside (the login bucket peeks the body)
            if started:
                raise
            await refused(exc)(scope, receive, send)
