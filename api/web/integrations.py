"""The admin's integrations page: userscripts for vendor ticket pages, webhook dead letters."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web.render import WebCaller, guard, page
from kbsvc.auth.models import Role
from kbsvc.hooks import delivery
from kbsvc.hooks import service as hooks

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)

EXAMPLE_FIELDS = {
    "ticket_id": "#ticketNo",
    "title": "input[name=subject]",
    "description": "textarea[name=description]",
    "solution": "textarea[name=resolution]",
    "system": "#system",
    "department": "#dept",
}


@router.get("/admin/integrations")
def integrations_page(
    request: Request, session: SessionDep, settings: SettingsDep, _caller: WebCaller
) -> Response:
    """Make a userscript for a vendor page; see webhooks and replay their dead letters."""
    if (denied := guard(request, Role.admin)) is not None:
        return denied
    hook_list = hooks.list_hooks(session).data
    letters = {h.name: delivery.dead_letters(session, name=h.name).data for h in hook_list}
    return page(
        request,
        "integrations.html",
        title="系统接入",
        nav="integrations",
        kb_url=settings.public_base_url.rstrip("/"),
        example_fields=json.dumps(EXAMPLE_FIELDS, ensure_ascii=False, indent=2),
        hooks=hook_list,
        letters=letters,
    )
