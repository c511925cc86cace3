"""Handbook pages: editors define, shape and preview handbooks; everyone signed in (trainees
too) reads and downloads published editions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import col

from api.deps import SearchEngineDep, SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web import data
from api.web.render import WebCaller, can, guard, page
from kbsvc.auth import policy
from kbsvc.auth.models import Role
from kbsvc.entries.models import Entry
from kbsvc.exceptions import NotFound, ValidationFailed
from kbsvc.handbooks import assemble, editions, export, service
from kbsvc.handbooks.models import Grouping
from kbsvc.handbooks.render.html import markdown_html

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

GROUPING_LABELS = {
    Grouping.system_module.value: "按系统 / 模块分章",
    Grouping.category.value: "按系统 / 问题分类分章",
    Grouping.cause_category.value: "按问题分类 / 系统分章",
}
# Heavy formats run as background jobs with progress (app.js); light ones download at once.
EXPORTS = [("pdf", "PDF"), ("docx", "Word"), ("html", "网页"), ("md", "Markdown")]
JOB_FORMATS = {"pdf", "docx"}


@router.get("/handbooks")
def handbooks_page(request: Request, session: SessionDep, caller: WebCaller) -> Response:
    """Handbooks: editors see every definition and a form; readers see published editions."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    listing = service.list_handbooks(session, limit=200)
    editor = can(request, Role.editor)
    handbooks = [h for h in listing.data if editor or h.editions > 0]
    return page(
        request,
        "handbooks.html",
        title="培训手册",
        handbooks=handbooks,
        options=data.filter_options(session) if editor else {},
        groupings=GROUPING_LABELS,
        exports=EXPORTS,
        job_formats=JOB_FORMATS,
        nav="handbooks",
    )


def _missing(request: Request, handbook_id: int, message: str = "") -> Response:
    return page(
        request,
        "error.html",
        status_code=404,
        title="手册不存在",
        message=message or f"没有找到编号为 {handbook_id} 的手册。",
    )


@router.get("/handbooks/{handbook_id}")
def handbook_preview(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    search: SearchEngineDep,
    caller: WebCaller,
    handbook_id: int,
    edition: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Preview (editors: the live selection, shaped by hand) or a published edition (readers)."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    editor = can(request, Role.editor)
    try:
        handbook = service.get(session, handbook_id=handbook_id)
    except NotFound:
        return _missing(request, handbook_id)
    published = editions.list_editions(session, handbook_id=handbook_id, principal=caller).data
    if not editor and edition is None:
        if not published:
            return _missing(request, handbook_id, "这本手册还没有发布，发布后即可阅读和下载。")
        edition = published[0].number
    try:
        # The export's own document: the preview has exactly its chapters, order and notes.
        doc = assemble.build_document(
            session,
            handbook_id=handbook_id,
            settings=settings,
            edition=edition,
            search=search,
            principal=caller,
        )
    except NotFound:
        return _missing(request, handbook_id, f"这本手册没有第 {edition} 版。")
    except ValidationFailed:
        doc = None
    public = service.to_public(session, handbook)
    excluded = []
    if editor and edition is None and public.shaping.excluded:
        stmt = select(Entry).where(
            col(Entry.id).in_(public.shaping.excluded), policy.visible_filter(caller)
        )
        excluded = list(session.execute(stmt).scalars())
    return page(
        request,
        "handbook_preview.html",
        title=handbook.title,
        handbook=public,
        doc=doc,
        chapters=doc.chapters if doc else [],
        count=doc.entry_count if doc else 0,
        intro=markdown_html(doc.intro if doc else handbook.intro),
        md=markdown_html,
        shaping=public.shaping.model_dump(mode="json"),
        excluded=excluded,
        edition=edition,
        editions=published,
        editing=editor and edition is None,
        warning=export.link_warning(settings.public_base_url),
        exports=EXPORTS,
        job_formats=JOB_FORMATS,
        groupings=GROUPING_LABELS,
        nav="handbooks",
    )
