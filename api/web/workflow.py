"""Editor and reviewer pages: capture a resolved ticket into a draft, the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from api.deps import SessionDep
from api.uow import UnitOfWorkRoute
from api.web import data
from api.web.render import WebCaller, guard, page, principal_of
from kbsvc.auth.models import Role
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryLink, EntryStatus, LinkKind
from kbsvc.exceptions import NotFound, ServiceUnavailable
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

TICKET_PAGE = 20


@router.get("/capture")
def capture_page(
    request: Request,
    session: SessionDep,
    _caller: WebCaller,
    q: Annotated[str, Query(max_length=200)] = "",
    page_no: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
) -> Response:
    """Step 1: resolved tickets; 采编 posts to the capture API and opens the draft."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    resolved = or_(Ticket.solution != "", Ticket.resolved_at.is_not(None))  # type: ignore[arg-type,union-attr]
    stmt = select(Ticket).where(resolved)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                Ticket.title.like(like),
                Ticket.symptom.like(like),  # type: ignore[attr-defined]
                Ticket.external_id.like(like),
            )
        )  # type: ignore[attr-defined]
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = list(
        session.execute(
            stmt.order_by(Ticket.resolved_at.desc(), Ticket.id.desc())  # type: ignore[union-attr]
            .offset((page_no - 1) * TICKET_PAGE)
            .limit(TICKET_PAGE)
        ).scalars()
    )
    links = session.execute(
        select(EntryLink.source, EntryLink.external_id, EntryLink.entry_id).where(
            EntryLink.kind == LinkKind.source
        )  # type: ignore[arg-type]
    ).all()
    captured = {(src, ext): entry_id for src, ext, entry_id in links}
    return page(
        request,
        "capture.html",
        title="采编知识",
        tickets=rows,
        total=total,
        q=q,
        page_no=page_no,
        pages=-(-total // TICKET_PAGE),
        nav="capture",
        captured=captured,
    )


@router.get("/capture/{entry_id}")
def capture_form(
    request: Request, session: SessionDep, _caller: WebCaller, entry_id: int
) -> Response:
    """Step 2: the prefilled draft beside likely duplicates; saving patches the draft."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    try:
        entry = entries.get(session, entry_id=entry_id)
    except NotFound:
        return page(
            request,
            "error.html",
            status_code=404,
            title="草稿不存在",
            message=f"没有找到编号为 {entry_id} 的知识条目。",
        )
    detail = entries.to_detail(session, entry)
    source = next((lk for lk in detail.links if lk.kind == "source"), None)
    ticket = (
        tickets.get_by_key(session, source=source.source, external_id=source.external_id)
        if source
        else None
    )
    query = " ".join(x for x in (entry.title, entry.symptom) if x)
    try:
        found = (
            data.search(request, session, q=query, k=6, offset=0, principal=principal_of(request))[
                "data"
            ]
            if query
            else []
        )
    except ServiceUnavailable:
        found = []
    dupes = [hit for hit in found if hit["entry"]["id"] != entry_id][:5]
    return page(
        request,
        "capture_form.html",
        title="采编知识",
        entry=detail,
        ticket=ticket,
        suggested=_suggested_tags(ticket, detail.tags),
        duplicates=dupes,
        nav="capture",
    )


def _suggested_tags(ticket: Ticket | None, current: list[str]) -> list[str]:
    if ticket is None:
        return []
    try:
        from kbsvc.entries.capture import suggest_ticket_tags
    except ImportError:  # pragma: no cover - before the capture domain is installed
        return []
    return [t for t in suggest_ticket_tags(ticket) if t not in current]


@router.get("/review")
def review_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """Entries waiting for review, with publish / reject actions."""
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    queue = entries.list_entries(session, status=EntryStatus.in_review, limit=200)
    drafts = entries.list_entries(session, status=EntryStatus.draft, limit=50)
    return page(
        request, "review.html", title="审核队列", queue=queue.data, drafts=drafts.data, nav="review"
    )
