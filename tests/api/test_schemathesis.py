"""Property-based API fuzzing (schemathesis, in-process ASGI): no 5xx, responses match the
OpenAPI document, every returned status is declared. One test per operation, so routes added
later are fuzzed without touching this file.

The knowledge base is realistic, not empty: entries in every state (some restricted to a
department), tickets with citations, handbooks with queries and editions, feedback flags and
search-log rows. Path parameters are often replaced by real ids read back from the list
endpoints, so the fuzzer reaches the code behind a found object, not only the 404s."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text
from sqlmodel import Session

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from tests.conftest import _pg_admin, _pg_url
from tests.factories import make_entry, make_ticket

# Minutes of fuzzing: in `make test`, not in `make test-fast`.
pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
# A longer run (e.g. a nightly `make fuzz`) sets KBSVC_FUZZ_EXAMPLES=100.
MAX_EXAMPLES = int(os.environ.get("KBSVC_FUZZ_EXAMPLES", "20"))

# List endpoint (last path segment) → the path parameter its items' ids fill.
ID_SOURCES = {
    "entries": "entry_id",
    "handbooks": "handbook_id",
    "tickets": "ticket_id",
    "vocabularies": "term_id",
    "users": "user_id",
    "api-keys": "key_id",
    "review-flags": "flag_id",
    "channels": "channel_id",
    "deliveries": "delivery_id",
}


def _seed(session: Session) -> None:
    """Entries of every status and two departments, tickets, restricted and tagged entries."""
    systems = ["HIS", "LIS", "PACS", "EMR"]
    for n in range(12):
        make_entry(
            session,
            title=f"{systems[n % 4]}故障{n}：门诊医生站登录失败",
            system=systems[n % 4],
            category="登录与账号" if n % 2 else "打印",
            tags=["登录", systems[n % 4]],
            status=EntryStatus.published if n < 8 else EntryStatus.draft,
            restricted_departments=["内科"] if n == 3 else [],
        )
    make_entry(session, title="待审核：检验科LIS接口中断", status=EntryStatus.in_review)
    for n in range(4):
        make_ticket(session, external_id=f"GD-{n}", title=f"工单{n}：医生站无法登录")


def _state(client: TestClient, headers: dict[str, str]) -> dict[str, list[Any]]:
    """Citations, feedback, handbooks with queries and editions, searches; then the real ids."""
    entries = client.get("/api/v1/entries?limit=200", headers=headers).json()["data"]
    published = [e["id"] for e in entries if e["status"] == "published"]
    for n, entry_id in enumerate(published[:4]):
        body = {"source": "test", "external_id": f"GD-{n}"}
        client.post(f"/api/v1/entries/{entry_id}/citations", json=body, headers=headers)
    client.post(
        f"/api/v1/entries/{published[0]}/feedback",
        json={"helpful": False, "comment": "步骤不全"},
        headers=headers,
    )
    for selection in ({"query": "登录失败"}, {"systems": ["HIS"], "query": "医生站"}, {}):
        r = client.post(
            "/api/v1/handbooks", json={"title": "常见故障", "selection": selection}, headers=headers
        )
        client.post(f"/api/v1/handbooks/{r.json()['id']}/editions", headers=headers)
    client.patch(
        f"/api/v1/entries/{published[1]}",
        json={"cause": "证书过期", "base_version": 1},
        headers=headers,
    )
    log_ids = [
        client.post("/api/v1/suggest", json={"text": q}, headers=headers).json()["log_id"]
        for q in ("医生站登录失败", "打印机卡纸")
    ]
    ids: dict[str, list[Any]] = {"log_id": log_ids, "version": [1, 2]}
    for path in client.app.openapi()["paths"]:  # type: ignore[attr-defined]
        param = ID_SOURCES.get(path.rsplit("/", 1)[-1])
        if param is None or "{" in path:
            continue
        body = client.get(path, params={"limit": 200}, headers=headers).json()
        items = body if isinstance(body, list) else body.get("data", [])
        ids[param] = [i["id"] for i in items if isinstance(i, dict) and "id" in i]
        if path.endswith("/tickets"):
            ids["source"] = sorted({i["source"] for i in items})
            ids["external_id"] = [i["external_id"] for i in items]
    return ids


# Requests sent per operation, printed once at the end (the long run reports its counts).
SENT: dict[str, int] = {}


@pytest.fixture(scope="module")
def kb(
    tmp_path_factory: pytest.TempPathFactory, pg_template: str | None
) -> Iterator[tuple[FastAPI, dict, dict]]:
    """One seeded site for the whole module (fuzzing keeps changing it, as users would), on
    PostgreSQL when the suite runs there (a copy of the session's migrated template)."""
    from api.app import create_app

    cfg = Settings(data_dir=tmp_path_factory.mktemp("fuzz"), database_url="", _env_file=None)  # type: ignore[call-arg]
    pg_db = None
    if pg_template is not None:
        pg_db = f"kbsvc_fuzz_{uuid.uuid4().hex[:12]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_db}" TEMPLATE "{pg_template}"'))
        cfg.database_url = _pg_url(pg_db)
    db_engine = db.make_engine(cfg)
    db.upgrade(db_engine)
    with Session(db_engine, expire_on_commit=False) as session:
        _seed(session)
        _row, key = auth_service.create_api_key(session, name="fuzz", role=Role.admin)
        session.commit()  # services only flush
    headers = {"Authorization": f"Bearer {key}"}
    app = create_app(cfg, db_engine=db_engine)
    with TestClient(app) as client:
        app.state.search_engine.sync()
        ids = _state(client, headers)
    yield app, headers, ids
    db_engine.dispose()
    if pg_db is not None:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
    where = "PostgreSQL" if pg_db else "SQLite"
    print(
        f"\nfuzz on {where}: {len(SENT)} operations, {sum(SENT.values())} requests, "
        f"{MAX_EXAMPLES} examples per operation, 0 server errors unless a test failed"
    )


def _operations() -> list[tuple[str, str]]:
    import tempfile

    from api.app import create_app

    tmp = Path(tempfile.mkdtemp(prefix="kbsvc-openapi-"))
    app = create_app(Settings(data_dir=tmp, database_url="", _env_file=None))  # type: ignore[call-arg]
    return [
        (m.upper(), p)
        for p, item in app.openapi()["paths"].items()
        for m in item
        if m in {"get", "post", "put", "patch", "delete"}
    ]


def _use_real_ids(case: Any, ids: dict[str, list[Any]], pick: int) -> None:
    # Two cases in three aim at an object that exists; the third keeps the generated value.
    if pick % 3 == 0 or not case.path_parameters:
        return
    for name in list(case.path_parameters):
        known = ids.get(name)
        if known:
            case.path_parameters[name] = known[pick % len(known)]


@pytest.mark.parametrize(("method", "path"), _operations())
def test_api_conforms(method: str, path: str, kb: tuple[FastAPI, dict, dict]) -> None:
    app, headers, ids = kb
    # Schemathesis runs the app's lifespan itself (engine, search index) and keeps it until
    # shut down: stop it after each operation so no index thread outlives the test.
    try:
        operation = schemathesis.openapi.from_asgi("/openapi.json", app)[path][method]

        # Valid inputs and deliberately invalid ones (which must get a declared 4xx, not 5xx).
        strategy = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy, pick=st.integers(min_value=0, max_value=1000))
        def fuzz(case: Any, pick: int) -> None:
            _use_real_ids(case, ids, pick)
            SENT[f"{method} {path}"] = SENT.get(f"{method} {path}", 0) + 1
            case.call_and_validate(headers=headers, checks=CHECKS)

        fuzz()
    finally:
        shutdown_lifespans()
