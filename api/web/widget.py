"""The embeddable widget script and the demo helpdesk ticket page that embeds it."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session

from api.deps import SessionDep
from api.web import STATIC_DIR, data
from api.web.render import WebCaller, guard, page
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import ApiKey, Role

router = APIRouter(include_in_schema=False)

DEMO_KEY_PREFIX = "demo-widget "
_demo_lock = threading.Lock()


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


def demo_widget_key(request: Request, session: Session, origin: str) -> str:
    """A widget key bound to `origin` for the demo page, created once per process and origin."""
    keys: dict[str, str] = request.app.state.__dict__.setdefault("demo_widget_keys", {})
    with _demo_lock:
        if origin in keys:
            return keys[origin]
        name = DEMO_KEY_PREFIX + origin
        # Plaintexts are never stored, so keys left by an earlier process are unusable: revoke.
        stale = session.execute(
            select(ApiKey).where(ApiKey.name == name, ApiKey.revoked.is_(False))  # type: ignore[arg-type,attr-defined]
        ).scalars()
        for row in stale:
            row.revoked = True
            session.add(row)
        session.commit()
        _row, plaintext = auth_service.create_api_key(
            session, name=name, role=Role.widget, origins=[origin]
        )
        keys[origin] = plaintext
        return plaintext


@router.get("/demo/ticket")
def demo_ticket(request: Request, session: SessionDep, _caller: WebCaller) -> Response:
    """A helpdesk-style ticket form with the widget embedded, as a third-party page would."""
    if (denied := guard(request, Role.viewer)) is not None:
        return denied
    origin = str(request.base_url).rstrip("/")
    options = data.filter_options(session)
    now = datetime.now()
    ticket_no = f"HD-{now:%Y%m%d}-{now:%H%M%S}"[:20]
    return page(
        request,
        "demo_ticket.html",
        title="报修工单（演示）",
        widget_key=demo_widget_key(request, session, origin),
        ticket_no=ticket_no,
        options=options,
        nav="demo",
    )
