"""The editor's day: my drafts, the edit form (drafts in place, published entries as revisions),
capture from a ticket without creating anything until 保存, and version comparison."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlmodel import col

from api.deps import SearchEngineDep, SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web import labels
from api.web.render import WebCaller, guard, not_found, page
from kbsvc.attachments import service as attachment_service
from kbsvc.auth.models import Role
from kbsvc.entries import capture, revisions, versions
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryRevision, EntryStatus
from kbsvc.exceptions import NotFound
from kbsvc.tickets import service as tickets

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

FORM_FIELDS = (*versions.CONTENT_FIELDS, "tags")


@router.get("/my")
def my_drafts(
    request: Request,
    session: SessionDep,
    caller: WebCaller,
    saved: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """我的草稿: my drafts and entries in review, my pending revisions, what was sent back."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    mine = [
        e
        for status in (EntryStatus.draft, EntryStatus.in_review)
        for e in entries.list_entries(
            session, status=status, created_by=caller.label, limit=200, principal=caller
        ).data
    ]
    rows = session.execute(
        select(EntryRevision, col(Entry.title))
        .join(Entry, col(Entry.id) == col(EntryRevision.entry_id))
        .where(
            col(EntryRevision.created_by) == caller.label,
            col(EntryRevision.status).in_(("draft", "in_review")),
        )
        .order_by(col(EntryRevision.updated_at).desc())
    ).all()
    return page(
        request,
        "my.html",
        title="我的草稿",
        drafts=mine,
        revisions=[{"rev": r, "title": t} for r, t in rows],
        saved=saved,
        nav="my",
    )


@router.get("/entries/{entry_id}/edit")
def edit_form(
    request: Request, session: SessionDep, settings: SettingsDep, caller: WebCaller, entry_id: int
) -> Response:
    """Edit a draft in place, or propose a revision of a published entry."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    try:
        entry = entries.get(session, entry_id=entry_id, principal=caller)
    except NotFound:
        return not_found(request, entry_id)
    if entry.merged_into_id or entry.purged_at:
        return RedirectResponse(f"/entries/{entry_id}", status_code=303)
    detail = entries.to_detail(session, entry)
    rev = revisions.open_revision(session, entry_id)
    values: dict[str, Any] = dict(rev.content) if rev else detail.model_dump()
    comment = rev.review_comment if rev else entry.review_comment
    return page(
        request,
        "entry_form.html",
        title=f"编辑：{entry.title}",
        mode="revision" if entry.status == EntryStatus.published else "edit",
        entry=detail,
        values=values,
        revision=rev,
        review_comment=comment,
        deletable=entry.status == EntryStatus.draft,
        options=labels.vocab_options(session),
        duplicates=[],
        ticket=None,
        attachments=[
            attachment_service.to_public(a)
            for a in attachment_service.listing(session, entry_id=entry_id, principal=caller)
        ],
        limits=settings.attachments,
        nav="my",
    )


@router.get("/capture/ticket/{ticket_id}")
def capture_form(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    search_engine: SearchEngineDep,
    caller: WebCaller,
    ticket_id: int,
) -> Response:
    """A form prefilled from the ticket; nothing is created until 保存. A ticket that already
    belongs to an entry offers that entry instead of a second draft."""
    if (denied := guard(request, Role.editor)) is not None:
        return denied
    try:
        ticket = tickets.get(session, ticket_id=ticket_id)
    except NotFound:
        return page(
            request,
            "error.html",
            status_code=404,
            title="工单不存在",
            message=f"没有找到编号为 {ticket_id} 的工单。",
        )
    existing = capture.find_source_entry(
        session, source=ticket.source, external_id=ticket.external_id
    )
    if existing is not None:
        return page(
            request, "capture_exists.html", title="该工单已采编", ticket=ticket, entry=existing
        )
    prefill = capture.prefill(ticket, settings.privacy)
    return page(
        request,
        "entry_form.html",
        title="采编知识",
        mode="capture",
        entry=None,
        values=prefill.model_dump(),
        revision=None,
        review_comment="",
        deletable=False,
        options=labels.vocab_options(session),
        duplicates=labels.similar(
            search_engine, session, settings.search, prefill.title, prefill.symptom, caller
        ),
        ticket=ticket,
        attachments=[],
        limits=settings.attachments,
        nav="capture",
    )


@router.get("/capture/{entry_id}")
def old_capture_link(entry_id: int) -> Response:
    """Old links to the capture form open the edit form (which respects review)."""
    return RedirectResponse(f"/entries/{entry_id}/edit", status_code=303)


@router.get("/entries/{entry_id}/compare")
def compare(
    request: Request,
    session: SessionDep,
    caller: WebCaller,
    entry_id: int,
    from_: Annotated[int, Query(alias="from", ge=1)] = 1,
    to: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """Two versions side by side, changed fields marked."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    try:
        entry = entries.get(session, entry_id=entry_id, principal=caller)
        left = versions.get_version(session, entry_id=entry_id, version=from_)
        right = versions.get_version(session, entry_id=entry_id, version=to)
    except NotFound:
        return not_found(request, entry_id)
    rows = [
        {
            "field": f,
            "before": left.snapshot.get(f),
            "after": right.snapshot.get(f),
            "changed": left.snapshot.get(f) != right.snapshot.get(f),
        }
        for f in FORM_FIELDS
    ]
    return page(
        request,
        "compare.html",
        title=f"比较版本：{entry.title}",
        entry=entry,
        left=left,
        right=right,
        rows=rows,
        all_versions=labels.versions(session, entry_id),
        nav="search",
    )
