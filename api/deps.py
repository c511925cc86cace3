"""Request dependencies: settings, sessions, process singletons, the caller and role checks."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.errors import is_page
from api.uow import SESSION_STATE
from indexer.engine import SearchEngine
from kbsvc.analytics.searchlog import SearchLogWriter
from kbsvc.auth import policy, sessions
from kbsvc.auth.keycache import KeyCache
from kbsvc.auth.models import ANONYMOUS, Principal, Role
from kbsvc.auth.widgetkeys import DemoWidgetKeys
from kbsvc.config import Settings
from kbsvc.entries.models import Entry
from kbsvc.exceptions import Forbidden, NotFound, Unauthorized
from kbsvc.handbooks.export import ExportLimiter


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db_engine(request: Request) -> Engine:
    """The database engine built in the lifespan."""
    return request.app.state.db_engine


DbEngineDep = Annotated[Engine, Depends(get_db_engine)]


async def get_session(request: Request, db_engine: DbEngineDep) -> AsyncIterator[Session]:
    """The request's session; `api.uow.UnitOfWorkRoute` commits it when the route succeeds."""
    # Opening a session does no I/O, so it is made on the event loop (no thread hop); closing
    # returns its connection (a rollback of whatever was not committed: a route that raised
    # leaves nothing behind), which is I/O, so that runs on a worker thread.
    session = Session(db_engine, expire_on_commit=False)
    setattr(request.state, SESSION_STATE, session)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_search_engine(request: Request) -> SearchEngine:
    """The process-wide search engine built in the lifespan."""
    return request.app.state.search_engine


async def get_search_log(request: Request) -> SearchLogWriter:
    """The process-wide search-log writer built in the lifespan."""
    return request.app.state.search_log


async def get_key_cache(request: Request) -> KeyCache:
    """The process-wide API key cache built in the lifespan."""
    return request.app.state.key_cache


async def get_export_limiter(request: Request) -> ExportLimiter:
    """The process-wide cap on concurrent PDF/DOCX exports built in the lifespan."""
    return request.app.state.export_limiter


async def get_demo_widget_keys(request: Request) -> DemoWidgetKeys:
    """The demo page's widget keys, kept for the process (built in the lifespan)."""
    return request.app.state.demo_widget_keys


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SearchEngineDep = Annotated[SearchEngine, Depends(get_search_engine)]
SearchLogDep = Annotated[SearchLogWriter, Depends(get_search_log)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
ExportLimiterDep = Annotated[ExportLimiter, Depends(get_export_limiter)]
DemoWidgetKeysDep = Annotated[DemoWidgetKeys, Depends(get_demo_widget_keys)]


def _bearer(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def csrf_sent(request: Request) -> str | None:
    """The CSRF token a cookie-authenticated write carries: header, or form field for forms."""
    if request.method in SAFE_METHODS or sessions.SESSION_COOKIE not in request.cookies:
        return None
    header = request.headers.get(sessions.CSRF_HEADER)
    if header:
        return header
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        value = (await request.form()).get(sessions.CSRF_FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def _request_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    if not origin:
        referer = urlsplit(request.headers.get("referer", ""))
        origin = f"{referer.scheme}://{referer.netloc}" if referer.netloc else None
    return origin.rstrip("/").lower() if origin and origin != "null" else origin


def _check_origin(request: Request, principal: Principal) -> None:
    # Browsers always name the page's origin: a key bound to origins works only from them.
    if not principal.origins:
        return
    origin = _request_origin(request)
    if origin is not None and origin not in principal.origins:
        raise Forbidden(f"this key is not allowed from origin {origin!r}")


async def _key_principal(request: Request, key: str) -> Principal | None:
    """The key's principal: from memory when the cache holds it and no check is due (no thread
    hop), else looked up (a check of the revocation sequence, a database read) off the loop."""
    cache: KeyCache = request.app.state.key_cache
    found = cache.cached(key)
    return found if found is not None else await run_in_threadpool(cache.principal, key)


async def get_principal(
    request: Request,
    session: SessionDep,
    csrf: Annotated[str | None, Depends(csrf_sent)],
) -> Principal:
    """The caller: API key header, else login session cookie (with CSRF on writes), else anon."""
    principal = ANONYMOUS
    key = _bearer(request)
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if key:
        found = await _key_principal(request, key)
        if found is None:
            raise Unauthorized("invalid or revoked API key")
        _check_origin(request, found)
        principal = found
    elif cookie:
        secret = request.app.state.secret_key
        resolved = await run_in_threadpool(sessions.resolve, session, cookie, secret)
        if resolved is not None:
            principal, token = resolved
            request.state.csrf_token = token
            if request.method not in SAFE_METHODS and not hmac.compare_digest(
                (csrf or "").encode(), token.encode()
            ):
                raise Forbidden(
                    f"missing or wrong CSRF token: send the {sessions.CSRF_HEADER} "
                    "header from the login response"
                )
    # The audit and rate-limit middleware read the caller from here.
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _peek_principal(request: Request, session: Session) -> Principal | None:
    """The caller without raising (the route's own role check answers bad credentials)."""
    key = _bearer(request)
    if key:
        return request.app.state.key_cache.principal(key)
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if not cookie:
        return None
    resolved = sessions.resolve(session, cookie, request.app.state.secret_key)
    if resolved is None:
        return None
    # A 404 page rendered from the guard shows the same header as the route's own pages.
    request.state.principal, request.state.csrf_token = resolved
    return resolved[0]


async def entry_visibility(request: Request, session: SessionDep) -> None:
    """App-wide guard: any route with an `{entry_id}`, API or web page, answers 404 for an entry
    hidden from the caller (drafts, other departments), so routes added later cannot leak one
    by id. On pages a missing id is refused here too, so both answer the same HTML 404."""
    raw = request.path_params.get("entry_id")
    if raw is None:
        return
    try:
        entry_id = int(raw)
    except (TypeError, ValueError):
        return
    if not 0 < entry_id < 2**63:
        return
    await run_in_threadpool(_check_visible, request, session, entry_id)


def _check_visible(request: Request, session: Session, entry_id: int) -> None:
    """entry_visibility's database part (run on a worker thread)."""
    principal = _peek_principal(request, session)
    if principal is None or principal.role is None:
        return  # anonymous: the route's role check answers 401
    entry = session.get(Entry, entry_id)
    if entry is not None:
        policy.ensure_visible(session, principal, entry)
    elif is_page(request):
        raise NotFound(f"entry {entry_id} not found", entry_id=entry_id)


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """Dependency that admits callers holding `role` (or a higher one)."""

    async def check(
        request: Request, principal: CurrentPrincipal, settings: SettingsDep
    ) -> Principal:
        if principal.role is None:
            if role is Role.viewer and settings.open_reads and request.method == "GET":
                return principal
            raise Unauthorized(
                "authentication required: send 'Authorization: Bearer <key>' or log in"
            )
        if not principal.has(role):
            raise Forbidden(f"this action needs the {role.value} role")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Editor = Annotated[Principal, Depends(require(Role.editor))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
WidgetOrViewer = Annotated[Principal, Depends(require(Role.widget))]
