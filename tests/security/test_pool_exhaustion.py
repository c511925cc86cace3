"""Threat: many concurrent clients exhaust the database pool and every request stalls 30 s."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event
from sqlalchemy.exc import TimeoutError as PoolTimeout

from kbsvc import db
from kbsvc.config import Settings


def test_a_full_pool_answers_json_503_with_retry_after(
    settings: Settings, viewer_headers: dict[str, str], engine: object
) -> None:
    """Regression: at ~40 clients requests waited 30 s for a connection, then a plain 500."""
    from api.app import create_app

    url = settings.db_url
    tiny = create_engine(
        url,
        connect_args={"check_same_thread": False},
        pool_size=4,
        max_overflow=0,
        pool_timeout=0.2,
    )
    event.listen(tiny, "connect", db._sqlite_pragmas)
    with TestClient(create_app(settings, db_engine=tiny)) as client:
        assert client.get("/api/v1/entries", headers=viewer_headers).status_code == 200
        held = []
        try:
            while True:  # take every free connection: the next request finds the pool empty
                try:
                    held.append(tiny.connect())
                except PoolTimeout:
                    break
            t0 = time.perf_counter()
            r = client.get("/api/v1/entries", headers=viewer_headers)
            waited = time.perf_counter() - t0
        finally:
            for conn in held:
                conn.close()
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "unavailable" and r.headers["Retry-After"] == "2"
        assert waited < 10
        assert client.get("/api/v1/entries", headers=viewer_headers).status_code == 200


def test_the_default_pool_is_sized_for_a_workers_threads(settings: Settings) -> None:
    eng = db.make_engine(settings)
    try:
        pool = eng.pool
        assert pool.size() + pool._max_overflow >= 50  # type: ignore[attr-defined]
        assert pool._timeout <= 5  # type: ignore[attr-defined]
    finally:
        eng.dispose()
