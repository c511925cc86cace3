"""The request's unit of work: one transaction per request, committed by the route, not services.

Services only flush. When a route returns, `UnitOfWorkRoute` commits the request's session
together with the audit event of the write, before the response is sent, so a commit that
fails reaches the exception handlers (a JSON error) and a client never sees a success that
was not stored. When the route raises, nothing is committed: the session dependency closes
the session and its transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from api.middleware.audit import AUDITED, REQUEST_BODY, event_fields
from kbsvc.auth import audit

SESSION_STATE = "db_session"  # request.state attribute the session dependency fills


def _commit(session: Session, event: dict[str, Any] | None) -> None:
    if event is not None:
        audit.record(session, **event)
    session.commit()


class UnitOfWorkRoute(APIRoute):
    """An APIRoute that commits the request's session (with the write's audit event) on success."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            response = await handler(request)
            session: Session | None = getattr(request.state, SESSION_STATE, None)
            if session is None:
                return response
            state = request.scope.setdefault("state", {})
            body = getattr(response, "body", b"")
            event = event_fields(  # None for reads, GET or declared (suggest)
                request.scope,
                response.status_code,
                bytes(state.get(REQUEST_BODY) or b""),
                body if isinstance(body, bytes) else b"",
            )
            await run_in_threadpool(_commit, session, event)
            state[AUDITED] = event is not None
            return response

        return run
