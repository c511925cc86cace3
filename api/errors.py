"""One JSON error shape for every failure, declared in OpenAPI."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from kbsvc import storage
from kbsvc.exceptions import KbError, RateLimited

log = logging.getLogger("kbsvc.errors")


class ErrorResponse(BaseModel):
    """Body of every error response."""

    code: str
    message: str
    details: dict[str, Any] | None = None


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing or invalid credentials",
    403: "Not allowed for this caller",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Rate limited",
    500: "Unexpected server error (details.request_id names it in the server log)",
    503: "Service not ready",
    507: "Disk full: nothing was saved (details.retry_after seconds)",
}

# Deeper pages are refused: counting past a million rows is a scan, and ids overflow int64.
MAX_OFFSET = 1_000_000

# Declared on every router so clients (and schemathesis) know every status we may return.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": desc} for code, desc in _DESCRIPTIONS.items()
}


def error_json(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an error response."""
    body = ErrorResponse(code=code, message=message, details=details)
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


def is_page(request: Request) -> bool:
    # Web pages are the routes kept out of the OpenAPI document; they answer HTML.
    route = request.scope.get("route")
    return route is not None and getattr(route, "include_in_schema", True) is False


def _kb_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KbError)
    if is_page(request):
        from api.web.render import error_page

        return error_page(request, exc)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_json(exc.status, exc.code, exc.message, exc.details or None, headers)


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        problems.append({"field": loc, "message": err.get("msg", "")})
    first = problems[0] if problems else {"field": "", "message": "invalid input"}
    message = f"invalid {first['field'] or 'input'}: {first['message']}"
    return error_json(422, "validation_failed", message, {"errors": problems})


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_json(
        exc.status_code, f"http_{exc.status_code}", message, headers=getattr(exc, "headers", None)
    )


def _too_large(_request: Request, exc: Exception) -> JSONResponse:
    limit = getattr(exc, "limit", None)
    return error_json(
        413, "too_large", f"request body larger than {limit} bytes", {"max_bytes": limit}
    )


def _out_of_range(_request: Request, _exc: Exception) -> JSONResponse:
    # A number the database column cannot hold (an id past int64): bad input, not a crash.
    return error_json(422, "validation_failed", "a number in the request is out of range")


def _pool_exhausted(_request: Request, _exc: Exception) -> JSONResponse:
    # Every database connection is busy: say so at once (the pool waits briefly, see
    # kbsvc.db) instead of a 30 s stall followed by a plain 500.
    return error_json(
        503,
        "unavailable",
        "the server is busy (all database connections in use); retry shortly",
        {"retry_after": POOL_RETRY_AFTER},
        headers={"Retry-After": str(POOL_RETRY_AFTER)},
    )


POOL_RETRY_AFTER = 2
DISK_RETRY_AFTER = 60


def _storage_error(request: Request, exc: Exception) -> JSONResponse:
    # A write on a full disk (SQLite, PostgreSQL or a file) is rolled back whole: say so in
    # JSON (507) instead of a plain 500; any other database or file error stays a 500.
    if not storage.is_disk_full(exc):
        return _unexpected(request, exc)
    log.error("disk full on %s %s: %s", request.method, request.url.path, exc)
    return error_json(
        507,
        "insufficient_storage",
        storage.MESSAGE,
        {"retry_after": DISK_RETRY_AFTER},
        headers={"Retry-After": str(DISK_RETRY_AFTER)},
    )


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Registered for Exception, so Starlette runs it outside every middleware: bugs in
    # middleware answer JSON too. The exception text stays in the log, never in the body.
    rid = str(getattr(request.state, "request_id", "") or "")
    log.error(
        "unhandled %s on %s %s",
        type(exc).__name__,
        request.method,
        request.url.path,
        exc_info=exc,
        extra={"request_id": rid},
    )
    return error_json(
        500,
        "internal_error",
        "internal server error; details.request_id names it in the server log",
        {"request_id": rid} if rid else None,
        headers={"X-Request-ID": rid} if rid else None,
    )


# What a person reading a page sees instead of the API's JSON (the API keeps its contract).
_PAGE_TEXT = {
    400: ("请求有误", "请求的内容不正确，请返回上一页检查后重试。"),
    401: ("需要登录", "登录已过期或尚未登录，请重新登录。"),
    403: ("没有权限", "当前账号没有使用此页面的权限，请联系管理员分配相应角色。"),
    404: ("页面不存在", "没有找到这个页面，它可能已被删除或地址有误。"),
    413: ("内容太长", "提交的内容太长，请精简后再试。"),
    422: ("参数不正确", "地址中的参数不正确（例如页码、筛选条件或问题描述），请返回上一页重试。"),
    429: ("操作太频繁", "操作太频繁，请稍后再试。"),
    500: ("服务器出错了", "服务器处理时出错，请稍后再试；如果一直出现，请联系信息科。"),
    507: ("磁盘空间不足", "服务器磁盘已满，刚才的内容没有保存；请联系信息科清理磁盘后重试。"),
}


def _for_people(request: Request) -> bool:
    """A browser asking for a page (not the API, not an asset)."""
    path = request.url.path
    if path.startswith(("/api/", "/static/", "/docs", "/openapi", "/widget")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _page_error(request: Request, status: int) -> Response:
    from api.web.render import page

    title, message = _PAGE_TEXT.get(status, _PAGE_TEXT[500 if status >= 500 else 400])
    return page(request, "error.html", status_code=status, title=title, message=message)


def _people_or(handler: Any) -> Any:
    """Wrap an error translator: pages get a Chinese error page, the API its JSON."""

    def translate(request: Request, exc: Exception) -> Response:
        response = handler(request, exc)
        if _for_people(request):
            try:
                return _page_error(request, response.status_code)
            except Exception:  # noqa: BLE001 - never let the error page hide the error
                log.exception("error page failed")
        return response

    return translate


def install(app: FastAPI) -> None:
    """Register the translators."""
    from api.middleware.bodyscan import BadBody, refused
    from api.middleware.limits import BodyTooLarge

    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(BadBody, lambda _request, exc: refused(exc))
    app.add_exception_handler(OverflowError, _out_of_range)
    app.add_exception_handler(DataError, _out_of_range)
    app.add_exception_handler(PoolTimeout, _people_or(_pool_exhausted))
    app.add_exception_handler(OperationalError, _people_or(_storage_error))
    app.add_exception_handler(OSError, _people_or(_storage_error))
    app.add_exception_handler(KbError, _people_or(_kb_error))
    app.add_exception_handler(RequestValidationError, _people_or(_validation_error))
    app.add_exception_handler(StarletteHTTPException, _people_or(_http_error))
    app.add_exception_handler(Exception, _people_or(_unexpected))
