"""Jinja2 environment, page context (caller, CSRF token, navigation) and small view helpers."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlmodel import Session, col

from api.deps import CurrentPrincipal
from api.web import TEMPLATE_DIR
from kbsvc.auth import sessions
from kbsvc.auth.models import ANONYMOUS, Principal, Role, User
from kbsvc.exceptions import KbError, NotFound

templates = Jinja2Templates(directory=str(TEMPLATE_DIR))

STATUS_LABELS = {
    "draft": "草稿",
    "in_review": "待审核",
    "published": "已发布",
    "archived": "已归档",
    "discarded": "已放弃",  # a revision nobody will publish
}
CONFIDENCE_LABELS = {"high": "高", "medium": "中", "low": "低"}
ROLE_LABELS = {
    "viewer": "查阅",
    "editor": "编辑",
    "reviewer": "审核",
    "admin": "管理员",
    "widget": "小组件",
}

# The retrieval service escapes snippet text and wraps hits in these literal tags.
_MARK = re.compile(r"(<mark>|</mark>)")


def snippet_parts(snippet: str) -> list[tuple[str, bool]]:
    """Split an escaped snippet into (plain text, highlighted) runs; the template re-escapes."""
    parts: list[tuple[str, bool]] = []
    marked = False
    for piece in _MARK.split(snippet or ""):
        if piece == "<mark>":
            marked = True
        elif piece == "</mark>":
            marked = False
        elif piece:
            parts.append((html.unescape(piece), marked))
    return parts


def reason_text(reason: Any) -> str:
    """A result's match reason in plain Chinese (the API gives channel + matched terms)."""
    if isinstance(reason, str):
        return reason
    channel = reason.get("channel", "")
    terms = [str(t) for t in reason.get("terms") or []][:6]
    if channel == "lexical":
        return "关键词：" + "、".join(terms) if terms else "关键词匹配"
    if channel in ("dense", "lsa", "e5", "sbert"):
        return "语义相近" if channel == "dense" else f"语义相近（{channel}）"
    if channel == "boost":
        return "同系统 / 科室" if not terms else "优先：" + "、".join(terms)
    return str(channel)


templates.env.globals.update(
    status_labels=STATUS_LABELS,
    confidence_labels=CONFIDENCE_LABELS,
    role_labels=ROLE_LABELS,
    snippet_parts=snippet_parts,
    reason_text=reason_text,
)


# Pages declare this so the caller (login session cookie) is resolved before rendering.
WebCaller = CurrentPrincipal


def principal_of(request: Request) -> Principal:
    """The caller resolved for this request (api.deps sets it), or anonymous."""
    user = getattr(request.state, "principal", None)
    return user if isinstance(user, Principal) else ANONYMOUS


def csrf_token(request: Request) -> str:
    """CSRF token for cookie-authenticated writes made by the page's scripts."""
    token = getattr(request.state, "csrf_token", None)
    if token:
        return str(token)
    return request.cookies.get(sessions.CSRF_COOKIE, "")


def can(request: Request, role: Role) -> bool:
    """True when the caller may use pages that need `role` (reads may be open to the intranet)."""
    principal = principal_of(request)
    if principal.role is None:
        return role is Role.viewer and bool(request.app.state.settings.open_reads)
    return principal.has(role)


def login_redirect(request: Request) -> RedirectResponse:
    """Send the browser to the login page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def guard(request: Request, role: Role) -> Response | None:
    """A login redirect or a 403 page when the caller lacks `role`; None when allowed."""
    if can(request, role):
        return None
    if principal_of(request).role is None:
        return login_redirect(request)
    return page(
        request,
        "error.html",
        status_code=403,
        title="没有权限",
        message="当前账号没有使用此页面的权限，请联系管理员分配相应角色。",
    )


def error_page(request: Request, exc: KbError) -> HTMLResponse:
    """A domain error raised on a page (or by the app-wide entry guard), as an HTML page."""
    if isinstance(exc, NotFound) and "entry_id" in exc.details:
        return not_found(request, exc.details["entry_id"])
    return page(request, "error.html", status_code=exc.status, title="出错了", message=exc.message)


def display_name(request: Request, principal: Principal) -> str:
    """How the header names the signed-in person (张三, not zhangsan or user:zhangsan)."""
    if principal.kind != "user":
        return principal.name
    with Session(request.app.state.db_engine) as session:
        stmt = select(col(User.display_name)).where(col(User.username) == principal.name)
        name = session.execute(stmt).scalar_one_or_none()
    return name or principal.name


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page template with the shared context."""
    principal = principal_of(request)
    base = {
        "request": request,
        "user": principal if principal.role is not None else None,
        "user_name": display_name(request, principal) if principal.role is not None else "",
        "csrf": csrf_token(request),
        "can_edit": can(request, Role.editor),
        "can_review": can(request, Role.reviewer),
        "can_admin": can(request, Role.admin),
    }
    base.update(context)
    response = templates.TemplateResponse(request, name, base, status_code=status_code)
    # Pages carry per-user data; never cache them in shared caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def not_found(request: Request, entry_id: object) -> HTMLResponse:
    """The 404 page for an entry that is missing or hidden from this caller."""
    return page(
        request,
        "error.html",
        status_code=404,
        title="记录不存在",
        message=f"没有找到编号为 {entry_id} 的知识条目，它可能已被删除或你没有查看权限。",
    )
