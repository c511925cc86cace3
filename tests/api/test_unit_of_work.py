"""One owner for commits: the request commits the route's changes with their audit event."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.deps import get_session
from api.uow import SESSION_STATE, UnitOfWorkRoute
from kbsvc.auth.models import AuditEvent
from kbsvc.exceptions import ServiceUnavailable
from kbsvc.vocab.models import VocabTerm

TERM = {"kind": "system", "value": "测试用系统"}


def _terms(engine: Engine) -> int:
    with Session(engine) as s:
        stmt = select(func.count()).where(VocabTerm.value == TERM["value"])  # type: ignore[arg-type]
        return int(s.execute(stmt).scalar_one())


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())  # type: ignore[arg-type]


def test_a_write_and_its_audit_event_commit_together(
    client: TestClient, engine: Engine, reviewer_headers: dict[str, str]
) -> None:
    r = client.post("/api/v1/vocabularies", json=TERM, headers=reviewer_headers)
    assert r.status_code == 201
    assert _terms(engine) == 1
    [ev] = _events(engine, "POST /api/v1/vocabularies")
    assert ev.object_ids == [str(r.json()["id"])] and ev.role == "reviewer"


def test_a_failing_commit_is_a_json_error_and_stores_nothing(
    app, engine: Engine, reviewer_headers: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    def refuse(_session: Session) -> None:
        raise ServiceUnavailable("database is read-only for maintenance")

    def session_that_cannot_commit(request: Request) -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as s:
            event.listen(s, "before_commit", refuse)
            setattr(request.state, SESSION_STATE, s)
            yield s

    app.dependency_overrides[get_session] = session_that_cannot_commit
    with TestClient(app) as client:
        r = client.post("/api/v1/vocabularies", json=TERM, headers=reviewer_headers)
    # The commit runs before the response is sent, so its failure is the response.
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    assert _terms(engine) == 0
    assert _events(engine, "POST /api/v1/vocabularies") == []


def test_a_route_that_raises_leaves_nothing_behind(
    client: TestClient, engine: Engine, reviewer_headers: dict[str, str]
) -> None:
    assert (
        client.post("/api/v1/vocabularies", json=TERM, headers=reviewer_headers).status_code == 201
    )
    dup = client.post("/api/v1/vocabularies", json=TERM, headers=reviewer_headers)
    assert dup.status_code == 409 and dup.json()["code"] == "conflict"
    assert _terms(engine) == 1
    assert len(_events(engine, "POST /api/v1/vocabularies")) == 1  # refused writes not audited


def test_every_route_is_a_unit_of_work(app) -> None:  # type: ignore[no-untyped-def]
    plain = [
        r.path for r in app.routes if isinstance(r, APIRoute) and not isinstance(r, UnitOfWorkRoute)
    ]
    assert plain == [], f"routes that would never commit: {plain}"


# Background jobs and process singletons own short transactions of their own, on purpose.
OWN_TRANSACTIONS = {
    "kbsvc/db.py",  # session_scope: the CLI's (and jobs') unit of work
    "kbsvc/auth/audit.py",  # events of failed requests, written apart from the rolled-back work
    "kbsvc/auth/service.py",  # API key last-used touch: bookkeeping, never the request's change
    "kbsvc/auth/sessions.py",  # revoking a disabled person's sessions while the login fails
    "kbsvc/notify/worker.py",  # outbox delivery worker
    "kbsvc/attachments/worker.py",  # OCR worker: claims, then writes results, in short sessions
    "kbsvc/handbooks/worker.py",  # export worker: claims, progress and the file, short sessions
    "kbsvc/notify/schedule.py",  # scheduled notices
    "kbsvc/auth/widgetkeys.py",  # demo widget keys cached for the process
    "kbsvc/analytics/searchlog.py",  # start-up retention purge
    "kbsvc/analytics/demo.py",  # demo analytics loader
    "kbsvc/demo/loader.py",  # demo loader: one transaction per fault family
    "kbsvc/search/election.py",  # advisory lock on its own connection, never left in a transaction
}


def test_services_only_flush() -> None:
    root = Path(__file__).resolve().parents[2]
    committing = sorted(
        str(path.relative_to(root))
        for path in (root / "kbsvc").rglob("*.py")
        if "migrations" not in path.parts and re.search(r"\.commit\(\)", path.read_text("utf-8"))
    )
    assert [p for p in committing if p not in OWN_TRANSACTIONS] == []
