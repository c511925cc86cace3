"""Reader pages: search, entry detail, login."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SearchEngineDep, SearchLogDep, SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web import data, labels
from api.web.render import WebCaller, can, guard, page, principal_of
from kbsvc.attachments import service as attachment_service
from kbsvc.auth.models import Role
from kbsvc.entries import revisions
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import ServiceUnavailable
from kbsvc.feedback import service as feedback

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

PAGE_SIZE = 10
MAX_QUERY = 500
EXAMPLES = [
    "门诊医生站登不上怎么办",
    "自助机不出条",
    "医保结算提示未备案",
    "打印机打不出腕带",
    "PACS看不了片子",
]


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


@router.get("/")
def search_page(
    request: Request,
    session: SessionDep,
    search_engine: SearchEngineDep,
    settings: SettingsDep,
    search_log: SearchLogDep,
    caller: WebCaller,
    q: str = "",
    system: Annotated[str, Query(max_length=100)] = "",
    department: Annotated[str, Query(max_length=100)] = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    category: Annotated[str, Query(max_length=100)] = "",
    sort: Annotated[str, Query(pattern="^(recent|reuse)$")] = "reuse",
    page_no: Annotated[int, Query(alias="page", ge=1, le=100)] = 1,
) -> Response:
    """The search page: a plain-language question, or filters alone to browse entries."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    q, notice = q.strip(), ""
    if len(q) > MAX_QUERY:
        # A pasted ticket body: search its beginning rather than answering with an error.
        q, notice = q[:MAX_QUERY], f"问题描述太长，只按前 {MAX_QUERY} 个字搜索。"
    filters = {"system": _clean(system), "department": _clean(department), "tag": _clean(tag)}
    result, browse = None, None
    if not q and (any(filters.values()) or category):
        browse = entries.list_entries(
            session,
            status=EntryStatus.published,
            category=_clean(category),
            sort=sort,
            offset=(page_no - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
            principal=caller,
            **filters,
        )
    if q:
        try:
            result = data.search(
                search_engine,
                session,
                settings=settings.search,
                q=q,
                k=PAGE_SIZE,
                offset=(page_no - 1) * PAGE_SIZE,
                principal=caller,
                search_log=search_log,
                **filters,
            )
        except ServiceUnavailable:
            notice = "搜索索引正在建立，请稍等片刻后刷新页面。"
    if result is not None:
        ids = [item["entry"]["id"] for item in result["data"]]
        sources = data.source_tickets(session, ids)
        for item in result["data"]:
            if not item.get("sources"):
                item["sources"] = sources.get(item["entry"]["id"], [])
    total = result["total"] if result is not None else browse.count if browse is not None else 0
    pages = min(100, -(-int(total) // PAGE_SIZE))
    return page(
        request,
        "search.html",
        title=f"{q} - 搜索" if q else "搜索处理经验",
        q=q,
        filters=filters,
        category=_clean(category) or "",
        sort=sort,
        browse=browse,
        result=result,
        notice=notice,
        page_no=page_no,
        pages=pages,
        options=data.filter_options(session),
        stats=data.kb_stats(session),
        examples=EXAMPLES,
        nav="search",
    )


@router.get("/entries/{entry_id}")
def entry_page(
    request: Request, session: SessionDep, _caller: WebCaller, entry_id: int
) -> Response:
    """One knowledge entry with its tickets, citations, feedback buttons and versions."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    # Missing and hidden entries raise NotFound: one 404 page for both (api.web.render).
    entry = entries.get(session, entry_id=entry_id, principal=_caller)
    if entry.merged_into_id:
        return RedirectResponse(f"/entries/{entry.merged_into_id}", status_code=301)
    detail = entries.to_detail(session, entry)
    staff = can(request, Role.editor)
    rev = revisions.open_revision(session, entry_id) if staff else None
    flags = feedback.list_flags(session, entry_id=entry_id, principal=_caller).data if staff else []
    return page(
        request,
        "entry.html",
        title=detail.title,
        entry=detail,
        revision=rev,
        flags=flags,
        names=labels.display_names(session, [detail.created_by, detail.updated_by]),
        sources=[lk for lk in detail.links if lk.kind == "source"],
        cited=[lk for lk in detail.links if lk.kind == "cited"],
        citations=data.citation_count(session, entry_id),
        versions=labels.versions(session, entry_id),
        attachments=[
            attachment_service.to_public(a)
            for a in attachment_service.listing(session, entry_id=entry_id, principal=_caller)
        ],
        nav="search",
    )


@router.get("/login")
def login_page(
    request: Request, _caller: WebCaller, next: Annotated[str, Query(max_length=500)] = "/"
) -> Response:
    """Username + password form; the script posts to the auth API."""
    # Only same-site paths: an open redirect would help phishing.
    if not next.startswith("/") or next.startswith("//") or "\\" in next:
        next = "/"
    if principal_of(request).role is not None:
        return RedirectResponse(next, status_code=303)
    return page(request, "login.html", title="登录", next=next, nav="login")
