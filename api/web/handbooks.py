"""Handbook builder pages: list and create handbooks, preview the selection, export buttons."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SearchEngineDep, SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web import data
from api.web.render import WebCaller, guard, page
from kbsvc.auth.models import Role
from kbsvc.exceptions import NotFound, ValidationFailed
from kbsvc.handbooks import service
from kbsvc.handbooks.models import Grouping

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

GROUPING_LABELS = {
    Grouping.system_module.value: "按系统 / 模块分章",
    Grouping.category.value: "按系统 / 问题分类分章",
    Grouping.cause_category.value: "按问题分类 / 系统分章",
}
EXPORTS = [("pdf", "PDF"), ("docx", "Word"), ("html", "网页"), ("md", "Markdown")]


@router.get("/handbooks")
def handbooks_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """Existing handbooks with export buttons, and a form to define a new one."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    listing = service.list_handbooks(session, limit=200)
    return page(
        request,
        "handbooks.html",
        title="培训手册",
        handbooks=listing.data,
        options=data.filter_options(session),
        groupings=GROUPING_LABELS,
        exports=EXPORTS,
        nav="handbooks",
    )


@router.get("/handbooks/{handbook_id}")
def handbook_preview(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    search: SearchEngineDep,
    caller: WebCaller,
    handbook_id: int,
) -> Response:
    """Preview: the entries the selection holds now, grouped as the chapters will be."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    try:
        handbook = service.get(session, handbook_id=handbook_id)
    except NotFound:
        return page(
            request,
            "error.html",
            status_code=404,
            title="手册不存在",
            message=f"没有找到编号为 {handbook_id} 的手册。",
        )
    try:
        # The export's own document, so the preview has exactly its chapters and order.
        doc = service.build_document(
            session, handbook_id=handbook_id, settings=settings, search=search, principal=caller
        )
    except ValidationFailed:
        doc = None
    return page(
        request,
        "handbook_preview.html",
        title=handbook.title,
        handbook=service.to_public(session, handbook),
        chapters=doc.chapters if doc else [],
        count=doc.entry_count if doc else 0,
        exports=EXPORTS,
        groupings=GROUPING_LABELS,
        nav="handbooks",
    )
