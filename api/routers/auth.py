"""Web UI login: session cookie plus CSRF token; `me` tells any caller who they are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field
from sqlmodel import SQLModel

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.auth import lockout, sessions
from kbsvc.auth.models import Principal
from kbsvc.exceptions import Forbidden, Unauthorized

router = APIRouter(
    prefix="/api/v1/auth", tags=["auth"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


class LoginIn(SQLModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class PasswordIn(SQLModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=8, max_length=200)


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
    request.state.audit = {"actor": lockout.actor(data.username), "object_type": "auth"}
    client = request.client.host if request.client else ""
    user, cookie, csrf = sessions.login(
        session, username=data.username, password=data.password, settings=settings, client=client
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


def _signed_out() -> Response:
    response = Response(status_code=204)
    response.delete_cookie(sessions.SESSION_COOKIE, path="/")
    response.delete_cookie(sessions.CSRF_COOKIE, path="/")
    return response


@router.post("/logout", status_code=204)
def logout(request: Request, session: SessionDep, _caller: CurrentPrincipal) -> Response:
    """End every login session of this person (cookie callers send the CSRF token)."""
    cookie = request.cookies.get(sessions.SESSION_COOKIE)
    if cookie:
        sessions.logout(session, cookie, request.app.state.secret_key)
    return _signed_out()


def signed_in_person(caller: CurrentPrincipal) -> Principal:
    """A person signed in with a session; API keys have no password to change."""
    if caller.role is None:
        raise Unauthorized("not logged in")
    if caller.kind != "user" or caller.id is None:
        raise Forbidden("only a signed-in person has a password to change")
    return caller


@router.post("/password", status_code=204)
def change_password(
    data: PasswordIn, session: SessionDep, caller: Annotated[Principal, Depends(signed_in_person)]
) -> Response:
    """Change one's own password (local accounts); every session of the person ends."""
    assert caller.id is not None
    sessions.change_password(
        session, user_id=caller.id, current=data.current_password, new=data.new_password
    )
    return _signed_out()


@router.get("/me", response_model=Me)
def me(request: Request, caller: CurrentPrincipal) -> Me:
    """Who is calling (API key or login session)."""
    if caller.role is None:
        raise Unauthorized("not logged in")
    return _me(caller, getattr(request.state, "csrf_token", None))
