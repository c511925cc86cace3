"""Web UI login: session cookie plus CSRF token; `me` tells any caller who they are."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field
from sqlmodel import SQLModel

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.auth import sessions
from kbsvc.auth.models import Principal
from kbsvc.exceptions import Unauthorized

router = APIRouter(
    prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


class LoginIn(SQLModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(SQLModel):
    """The caller; `csrf_token` (cookie sessions) goes in the X-CSRF-Token header of writes."""

    kind: str
    name: str
    role: str
    departments: list[str] = []
    csrf_token: str | None = None


def _me(principal: Principal, csrf: str | None) -> Me:
    return Me(
        kind=principal.kind,
        name=principal.name,
        role=str(principal.role or ""),
        departments=list(principal.departments),
        csrf_token=csrf,
    )


@router.post("/login", response_model=Me)
def login(
    data: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> Me:
    """Check username and password; sets the session cookie (HttpOnly) and a CSRF cookie."""
    request.state.audit = {"actor": f"user:{data.username}", "object_type": "auth"}
    user, cookie, csrf = sessions.login(
        session, username=data.username, password=data.password, settings=settings
    )
    max_age = int(settings.auth.session_hours * 3600)
    secure = settings.auth.cookie_secure
    response.set_cookie(
        sessions.SESSION_COOKIE,
        cookie,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    # Readable by the UI's script (double submit); useless to another site, which cannot read it.
    response.set_cookie(
        sessions.CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    principal = sessions.principal_for_user(user)
    request.state.principal = principal
    return _me(principal, csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, _caller: CurrentPrincipal) -> Response:
    """End the login session (cookie callers must send the CSRF token, like any write)."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if cookie:
        sessions.logout(session, cookie, request.app.state.secret_key)
    response = Response(status_code=204)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(request: Request, caller: CurrentPrincipal) -> Me:
    """Who is calling (API key or login session)."""
    if caller.role is None:
        raise Unauthorized("not logged in")
    return _me(caller, getattr(request.state, "csrf_token", None))
