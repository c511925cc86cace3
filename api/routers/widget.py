"""The embedded widget: 存为知识 (drafts, and nothing more, for a widget key) and userscripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.deps import Admin, CurrentPrincipal, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.auth.models import Principal, Role
from kbsvc.exceptions import Forbidden, Unauthorized
from kbsvc.widget import userscript
from kbsvc.widget.capture import WidgetCaptureIn, WidgetCaptureResult, save_as_knowledge
from kbsvc.widget.userscript import UserscriptIn, UserscriptPublic

router = APIRouter(
    prefix="/api/v1/widget", tags=["widget"], responses=ERROR_RESPONSES, route_class=UnitOfWorkRoute
)


def widget_or_editor(principal: CurrentPrincipal) -> Principal:
    """Widget keys (bound to their origins) and editors; viewers only read."""
    if principal.role is None:
        raise Unauthorized("authentication required: send the widget key as X-API-Key")
    if principal.role is Role.widget or principal.has(Role.editor):
        return principal
    raise Forbidden("saving a ticket as knowledge needs a widget key or the editor role")


@router.post(
    "/capture",
    response_model=WidgetCaptureResult,
    status_code=201,
    responses={200: {"model": WidgetCaptureResult, "description": "The ticket's draft, updated"}},
)
def capture(
    body: WidgetCaptureIn,
    session: SessionDep,
    settings: SettingsDep,
    caller: Annotated[Principal, Depends(widget_or_editor)],
    request: Request,
    response: Response,
) -> WidgetCaptureResult:
    """Upsert the host page's ticket and create its draft entry (201), or update it (200)."""
    result = save_as_knowledge(session, body, principal=caller, privacy=settings.privacy)
    # The audit event names the ticket: widget captures are counted per ticket from it.
    request.state.audit = {"object_type": "tickets", "object_ids": [str(result.ticket_id)]}
    if result.outcome != "created":
        response.status_code = 200
    return result


@router.post("/userscripts", response_model=UserscriptPublic, status_code=201)
def create_userscript(
    body: UserscriptIn, session: SessionDep, settings: SettingsDep, _caller: Admin
) -> UserscriptPublic:
    """A Tampermonkey/Violentmonkey userscript for a vendor page, with a key bound to its origin."""
    result = userscript.create(
        session,
        match=body.match,
        fields=body.fields,
        kb_url=body.kb_url or settings.public_base_url,
        source=body.source,
    )
    return result
