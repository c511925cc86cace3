"""Editor and reviewer pages: resolved tickets to capture, the review queue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, or_, select
from sqlmodel import col

from api.deps import SessionDep
from api.uow import UnitOfWorkRoute
from api.web import labels
from api.web.render import WebCaller, guard, page
from kbsvc.auth.models import Role
from kbsvc.entries import revisions, workflow
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryLink, LinkKind
from kbsvc.feedback import service as feedback
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
    resolved = or_(col(Ticket.solution) != "", col(Ticket.resolved_at).is_not(None))
    stmt = select(Ticket).where(resolved)
    if q.strip():
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                col(Ticket.title).like(like),
                col(Ticket.symptom).like(like),
                col(Ticket.external_id).like(like),
            )
        )
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = list(
        session.execute(
            stmt.order_by(col(Ticket.resolved_at).desc(), col(Ticket.id).desc())
            .offset((page_no - 1) * TICKET_PAGE)
            .limit(TICKET_PAGE)
        ).scalars()
    )
    links = session.execute(
        select(col(EntryLink.source), col(EntryLink.external_id), col(EntryLink.entry_id)).where(
            col(EntryLink.kind) == LinkKind.source
        )
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


@router.get("/review")
def review_page(request: Request, session: SessionDep, caller: WebCaller) -> Response:
    """The review queue, oldest first: new entries, and revisions with their diff to live."""
    if (denied := guard(request, Role.reviewer)) is not None:
        return denied
    queue = workflow.review_queue(session, limit=200, principal=caller).data
    items = []
    authors: list[str] = []
    for e in queue:
        rev = revisions.open_revision(session, e.id) if e.pending_revision else None
        live = entries.get(session, entry_id=e.id, principal=caller)
        author = rev.updated_by if rev else e.updated_by
        authors.append(author)
        items.append(
            {
                "entry": e,
                "revision": revisions.to_public(session, live, rev) if rev else None,
                "author": author,
            }
        )
    flags = feedback.list_flags(session, principal=caller, limit=200).data
    authors += [f.created_by for f in flags]
    return page(
        request,
        "review.html",
        title="审核队列",
        queue=items,
        flags=flags,
        names=labels.display_names(session, authors),
        nav="review",
    )
