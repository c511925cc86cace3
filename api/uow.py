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
from sqlalchemy import event as sa_event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from api.middleware.audit import AUDITED, REQUEST_BODY, event_fields
from kbsvc.auth import audit

SESSION_STATE = "db_session"  # request.state attribute the session dependency fills
WROTE = "kbsvc_wrote"  # Session.info flag: the session flushed or executed a non-SELECT


@sa_event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: object) -> None:
    session.info[WROTE] = True


@sa_event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[WROTE] = True


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
            # A read that wrote nothing has nothing to commit: closing the session ends its
            # transaction (a thread hop and a COMMIT saved on every suggest).
            if event is not None or session.info.get(WROTE):
                await run_in_threadpool(_commit, session, event)
            state[AUDITED] = event is not None
            return response

        return run
