"""Admin pages: people, API keys (widget origins) and the vocabularies."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.uow import UnitOfWorkRoute
from api.web.render import WebCaller, guard, page
from kbsvc.auth import admin, service
from kbsvc.auth.models import Role
from kbsvc.vocab import mapping
from kbsvc.vocab import service as vocab

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

KIND_LABELS = {
    "system": "系统",
    "module": "模块",
    "department": "科室",
    "category": "分类",
    "abbreviation": "缩写",
}


@router.get("/admin")
def admin_home(request: Request, _caller: WebCaller) -> Response:
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    return page(request, "admin_home.html", title="管理", nav="admin")


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """People: add, change role and departments, disable, reset the password."""
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    return page(
        request,
        "admin_users.html",
        title="用户管理",
        users=admin.list_users(session),
        roles=admin.STAFF_ROLES,
        nav="admin",
    )


@router.get("/admin/keys")
def keys_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """API keys: create (widget keys with their origins), change origins, revoke."""
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    return page(
        request,
        "admin_keys.html",
        title="接口密钥",
        keys=service.list_api_keys(session, include_revoked=True),
        roles=list(Role),
        nav="admin",
    )


@router.get("/admin/vocab")
def vocab_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """Vocabularies and the values they do not know yet (map or add, fixing existing rows)."""
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    terms = vocab.list_terms(session).data
    by_kind = {k: [t for t in terms if t.kind == k] for k in KIND_LABELS}
    return page(
        request,
        "admin_vocab.html",
        title="标准词表",
        unmapped=mapping.unmapped(session),
        by_kind=by_kind,
        kind_labels=KIND_LABELS,
        nav="admin",
    )
