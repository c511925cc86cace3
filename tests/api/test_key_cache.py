"""API keys from the in-process cache: revocation reaches every worker, suggest reads once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import LinkKind
from tests.factories import make_entry

CHECK_S = 0.5


@pytest.fixture
def workers(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app instances on one database, as two API workers are."""
    settings.auth.key_check_s = CHECK_S
    with (
        TestClient(create_app(settings, db_engine=engine)) as a,
        TestClient(create_app(settings, db_engine=engine)) as b,
    ):
        yield a, b


def _key(session: Session, role: Role = Role.viewer) -> tuple[int, dict[str, str]]:
    row, key = auth_service.create_api_key(session, name=f"k-{role}-{time.time()}", role=role)
    session.commit()
    return row.id or 0, {"Authorization": f"Bearer {key}"}


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/auth/me", headers=headers).status_code


def test_revocation_through_one_worker_stops_the_key_on_every_worker(
    workers: tuple[TestClient, TestClient], session: Session
) -> None:
    a, b = workers
    _admin_id, admin = _key(session, Role.admin)
    key_id, headers = _key(session)
    assert _me(a, headers) == 200 and _me(b, headers) == 200  # both workers now cache the key
    assert a.post(f"/api/v1/admin/api-keys/{key_id}/revoke", headers=admin).status_code == 200
    assert _me(a, headers) == 401  # the revoking worker forgets at once
    time.sleep(CHECK_S)  # the documented bound (auth.key_check_s) for every other worker
    assert _me(b, headers) == 401
    assert _me(a, admin) == 200 and _me(b, admin) == 200  # other keys are re-read, still valid


def test_revocation_from_the_cli_reaches_running_workers(
    workers: tuple[TestClient, TestClient], session: Session
) -> None:
    a, b = workers
    key_id, headers = _key(session)
    assert _me(a, headers) == 200 and _me(b, headers) == 200
    auth_service.revoke_api_key(session, ident=str(key_id))  # what `kbsvc apikey revoke` does
    session.commit()
    time.sleep(CHECK_S)
    assert _me(a, headers) == 401 and _me(b, headers) == 401


def test_origin_change_reaches_the_other_worker(
    workers: tuple[TestClient, TestClient], session: Session
) -> None:
    a, b = workers
    _admin_id, admin = _key(session, Role.admin)
    row, key = auth_service.create_api_key(
        session, name="w", role=Role.widget, origins=["http://his.example.cn"]
    )
    session.commit()
    h = {"X-API-Key": key, "Origin": "http://his.example.cn"}
    assert _me(b, h) == 200
    body = {"origins": ["http://emr.example.cn"]}
    assert a.patch(f"/api/v1/admin/api-keys/{row.id}", json=body, headers=admin).status_code == 200
    time.sleep(CHECK_S)
    assert _me(b, h) == 403
    assert _me(b, {**h, "Origin": "http://emr.example.cn"}) == 200


def test_suggest_with_a_known_key_is_one_read(
    settings: Settings, engine: Engine, session: Session
) -> None:
    """No key lookup, no audit row, no write: one query loads visible hits with tags and links."""
    settings.auth.key_check_s = 3600
    _id, viewer = _key(session)
    with TestClient(create_app(settings, db_engine=engine)) as client:
        entry_id = make_entry(session, title="打印机卡纸", tags=["打印机"]).id
        entries.link_ticket(
            session,
            entry_id=entry_id or 0,
            source="itsm",
            external_id="GD-1",
            kind=LinkKind.source,
            actor="t",
        )
        session.commit()
        client.app.state.search_engine.sync()  # type: ignore[attr-defined]
        body = {"text": "打印机卡纸"}
        assert client.post("/api/v1/suggest", json=body, headers=viewer).status_code == 200
        statements: list[str] = []

        def seen(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            r = client.post("/api/v1/suggest", json=body, headers=viewer)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert r.status_code == 200
    hit = r.json()["data"][0]
    assert hit["entry"]["id"] == entry_id and hit["entry"]["tags"] == ["打印机"]
    assert hit["sources"] == [{"source": "itsm", "external_id": "GD-1", "kind": "source"}]
    # The search log is written by its own thread, the shorthand check runs every few seconds
    # and the index follower polls entry_changes on its own thread: none is the request's.
    ours = [
        s
        for s in statements
        if "search_log" not in s
        and "vocab_terms" not in s.split("FROM")[-1]
        and "FROM entry_changes" not in s
    ]
    assert len(ours) == 1, ours
    assert ours[0].lstrip().upper().startswith("SELECT") and "api_keys" not in ours[0]
