"""The embeddable widget script and the demo helpdesk ticket page that embeds it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import DemoWidgetKeysDep, SessionDep, SettingsDep
from api.uow import UnitOfWorkRoute
from api.web import STATIC_DIR, data
from api.web.render import WebCaller, can, guard, page
from kbsvc.auth.models import Role

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def demo_origin(request: Request, public_base_url: str) -> str:
    """The origin the demo page's widget key is bound to: the configured public URL's.

    The request's own origin comes from its Host header, which the client chooses: were it
    used for everyone, any signed-in viewer could mint a key (and a CORS origin) for any site
    by sending `Host: evil.example`. Admins, who may create keys for any origin anyway, get
    one for the address they are using, so the demo also works behind another name.
    """
    if can(request, Role.admin):
        return _origin(str(request.base_url))
    return _origin(public_base_url)


@router.get("/widget.js")
def widget_script(request: Request) -> Response:
    """The widget, loaded by `<script src=".../widget.js" data-kbsvc-key=...>` on any page."""
    body = (STATIC_DIR / "widget.js").read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    headers = {
        # Short max-age plus an ETag: host pages pick up a new release within minutes.
        "Cache-Control": "public, max-age=300, must-revalidate",
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        # Host pages on other origins load this script; do not let CORP block it.
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/demo/ticket")
def demo_ticket(
    request: Request,
    session: SessionDep,
    demo_keys: DemoWidgetKeysDep,
    _caller: WebCaller,
    settings: SettingsDep,
    ticket: Annotated[str, Query(max_length=20, pattern=r"^[A-Za-z0-9-]*$")] = "",
) -> Response:
    """A helpdesk-style ticket form with the widget embedded, as a third-party page would."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    if not ticket:
        # The ticket number lives in the address, so a reload shows the same ticket (and the
        # widget its 已引用 entries), as a real helpdesk's ticket page does.
        now = datetime.now()
        return RedirectResponse(f"/demo/ticket?ticket=HD-{now:%Y%m%d}-{now:%H%M%S}", 303)
    origin = demo_origin(request, settings.public_base_url)
    options = data.filter_options(session)
    ticket_no = ticket
    return page(
        request,
        "demo_ticket.html",
        title="报修工单（演示）",
        widget_key=demo_keys.key_for(origin),
        ticket_no=ticket_no,
        options=options,
        nav="demo",
    )
