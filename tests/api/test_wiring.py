"""The lifespan builds every process singleton once; routes reach them through dependencies."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api import deps
from indexer.engine import SearchEngine
from kbsvc.analytics.searchlog import SearchLogWriter
from kbsvc.auth.models import ApiKey
from kbsvc.auth.widgetkeys import DEMO_KEY_PREFIX, DemoWidgetKeys
from kbsvc.handbooks.export import ExportLimiter


def test_lifespan_builds_the_singletons_and_stops_them(app, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app):
        state = app.state
        assert state.db_engine is engine
        assert isinstance(state.search_engine, SearchEngine)
        assert isinstance(state.search_log, SearchLogWriter)
        assert isinstance(state.export_limiter, ExportLimiter)
        assert isinstance(state.demo_widget_keys, DemoWidgetKeys)
        writer = state.search_log
    assert not writer._thread.is_alive()  # closed at shutdown, queued rows written first


def test_singletons_can_be_overridden(app, admin_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    class NotReady:
        ready = False

    app.dependency_overrides[deps.get_search_engine] = lambda: NotReady()
    with TestClient(app) as client:
        r = client.get("/api/v1/search", params={"q": "打印机"}, headers=admin_headers)
    assert r.status_code == 503 and r.json()["code"] == "unavailable"


def test_demo_widget_keys_one_per_origin_and_stale_revoked(engine: Engine) -> None:
    origin = "http://kb.example.cn"
    first = DemoWidgetKeys(engine)
    key = first.key_for(origin)
    assert first.key_for(origin) == key
    # A new process cannot know the old plaintext: it revokes the old row and makes a new key.
    second = DemoWidgetKeys(engine)
    assert second.key_for(origin) != key
    with Session(engine) as session:
        rows = session.exec(select(ApiKey).where(col(ApiKey.name) == DEMO_KEY_PREFIX + origin))
        assert sorted(row.revoked for row in rows) == [False, True]


def test_search_log_writer_close_writes_what_is_queued(engine: Engine) -> None:
    from kbsvc.analytics.models import SearchLog
    from kbsvc.analytics.searchlog import record_search
    from kbsvc.config import PrivacySettings

    writer = SearchLogWriter(engine, privacy=PrivacySettings())
    log_id = record_search(writer, kind="search", query="打印机卡纸")
    writer.close()
    assert not writer._thread.is_alive()
    with Session(engine) as session:
        assert session.get(SearchLog, log_id) is not None


def test_every_router_module_is_mounted() -> None:
    """A router module added to api/routers/ but left out of ROUTERS would silently vanish."""
    import importlib
    import pkgutil

    import api.routers
    from api.app import ROUTERS

    modules = [
        importlib.import_module(f"api.routers.{m.name}")
        for m in pkgutil.iter_modules(api.routers.__path__)
    ]
    missing = [m.__name__ for m in modules if getattr(m, "router", None) not in ROUTERS]
    assert missing == []


def test_the_read_paths_are_matched_first_and_by_nothing_else() -> None:
    """Search is mounted first (routing walks routers in order); that may not shadow a route."""
    from collections.abc import Iterable, Iterator

    from starlette.routing import BaseRoute

    from api.app import ROUTERS
    from api.routers import search

    def walk(routes: Iterable[BaseRoute]) -> Iterator[BaseRoute]:
        for route in routes:
            inner = getattr(route, "original_router", None)
            yield from walk(inner.routes) if inner is not None else [route]

    assert ROUTERS[0] is search.router
    for path in ("/api/v1/suggest", "/api/v1/search"):
        owners = [
            r
            for router in ROUTERS
            for r in walk(router.routes)
            if getattr(r, "path_regex", None) is not None and r.path_regex.match(path)
        ]
        assert [r.path for r in owners] == [path]
        assert owners[0] in search.router.routes


def test_every_cli_module_is_mounted() -> None:
    """Same for command groups: each kbsvc/cli module with register() is in GROUPS."""
    import importlib
    import pkgutil

    import kbsvc.cli

    modules = [
        importlib.import_module(f"kbsvc.cli.{m.name}")
        for m in pkgutil.iter_modules(kbsvc.cli.__path__)
        if not m.name.startswith("_")
    ]
    assert [m.__name__ for m in modules if m not in kbsvc.cli.GROUPS] == []
