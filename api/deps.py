"""Request dependencies: settings, sessions, the caller and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import ANONYMOUS, Principal, Role
from kbsvc.config import Settings
from indexer.engine import SearchEngine
from kbsvc.exceptions import Forbidden, ServiceUnavailable, Unauthorized


def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    # Services own their commits; the request scope only closes (and rolls back leftovers).
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_search(request: Request) -> SearchEngine:
    """The process-wide search engine built in the lifespan (tests may override)."""
    engine = getattr(request.app.state, "search", None)
    if engine is None:
        raise ServiceUnavailable("search is not available in this process")
    return engine  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
SearchEngineDep = Annotated[SearchEngine, Depends(get_search)]


def _bearer(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key.strip()
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return None


def get_principal(request: Request, session: SessionDep) -> Principal:
    """The caller, from an API key header or the login session (anonymous otherwise)."""
    key = _bearer(request)
    if key:
        principal = auth_service.principal_for_key(session, key)
        if principal is None:
            raise Unauthorized("invalid or revoked API key")
        return principal
    user = getattr(request.state, "user", None)
    return user if isinstance(user, Principal) else ANONYMOUS


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Callable[..., Principal]:
    """Dependency that admits callers holding `role` (or a higher one)."""

    def check(request: Request, principal: CurrentPrincipal, settings: SettingsDep) -> Principal:
        if principal.role is None:
            if role is Role.viewer and settings.open_reads and request.method == "GET":
                return principal
            raise Unauthorized("authentication required: send 'Authorization: Bearer <key>'")
        if not principal.has(role):
            raise Forbidden(f"this action needs the {role.value} role")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require(Role.viewer))]
Editor = Annotated[Principal, Depends(require(Role.editor))]
Reviewer = Annotated[Principal, Depends(require(Role.reviewer))]
Admin = Annotated[Principal, Depends(require(Role.admin))]
WidgetOrViewer = Annotated[Principal, Depends(require(Role.widget))]
