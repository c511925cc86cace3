"""Editor and reviewer pages: capture a resolved ticket, the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select

from api.deps import SessionDep
from api.web import data
from api.web.render import WebCaller, guard, page
from kbsvc.auth.models import Role
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryLink, EntryStatus, LinkKind
from kbsvc.exceptions import NotFound
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket

router = APIRouter(include_in_schema=False)

TICKET_PAGE = 20


@router.get("/capture")
def capture_page(
    request: Request,
    session: SessionDep,
    _caller: WebCaller,
    q: Annotated[str, Query(max_length=200)] = "",
    ticket: Annotated[int | None, Query(ge=1)] = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=1000)] = 1,
) -> Response:
    """Step 1: pick a resolved ticket. Step 2 (?ticket=ID): prefilled draft + likely duplicates."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    if ticket is not None:
        try:
            row = tickets.get(session, ticket_id=ticket)
        except NotFound:
            return page(request, "error.html", status_code=404, title="工单不存在",
                        message=f"没有找到编号为 {ticket} 的工单。")
        draft = {
            "title": row.title, "symptom": row.symptom or row.description, "cause": row.cause,
            "solution": row.solution, "workaround": row.workaround, "system": row.system,
            "module": row.module, "department": row.department, "category": row.category,
            "tags": "，".join(row.tags),
        }
        query = " ".join(x for x in (row.title, row.symptom or row.description) if x)
        dupes = data.search(request, session, q=query, k=5, offset=0)["data"] if query else []
        return page(request, "capture_form.html", title="采编知识", ticket=row, draft=draft,
                    duplicates=dupes, nav="capture")
    resolved = or_(Ticket.solution != "", Ticket.resolved_at.is_not(None))  # type: ignore[arg-type,union-attr]
    stmt = select(Ticket).where(resolved)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Ticket.title.like(like), Ticket.symptom.like(like),  # type: ignore[attr-defined]
                              Ticket.external_id.like(like)))  # type: ignore[attr-defined]
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = list(session.execute(
        stmt.order_by(Ticket.resolved_at.desc(), Ticket.id.desc())  # type: ignore[union-attr]
        .offset((page_no - 1) * TICKET_PAGE).limit(TICKET_PAGE)
    ).scalars())
    captured = set(session.execute(
        select(EntryLink.source, EntryLink.external_id).where(EntryLink.kind == LinkKind.source)  # type: ignore[arg-type]
    ).tuples())
    return page(request, "capture.html", title="采编知识", tickets=rows, total=total, q=q,
                page_no=page_no, pages=-(-total // TICKET_PAGE), nav="capture",
                captured={(s, e) for s, e in captured})


@router.get("/review")
def review_page(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """Entries waiting for review, with publish / reject actions."""
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    queue = entries.list_entries(session, status=EntryStatus.in_review, limit=200)
    drafts = entries.list_entries(session, status=EntryStatus.draft, limit=50)
    return page(request, "review.html", title="审核队列", queue=queue.data,
                drafts=drafts.data, nav="review")
