"""FastAPI application factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from api import errors, middleware
from api.deps import entry_visibility
from api.logs import configure_logging
from api.metrics import Metrics
from api.routers import discover
from indexer.engine import SearchEngine
from kbsvc import __version__, db
from kbsvc.auth.sessions import secret_key
from kbsvc.config import Settings, get_settings
from kbsvc.search.engine import build_search_engine


def _start_search(settings: Settings, db_engine: Engine) -> SearchEngine:
    """Load (or rebuild) the search index once per process and follow the change sequence."""
    search_engine = build_search_engine(settings, db_engine)
    search_engine.start()
    search_engine.run_background(settings.search.sync_interval_s)
    return search_engine


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app; the engine and indexes are created once, in the lifespan."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = engine or db.make_engine(settings)
        db.upgrade(app.state.engine)
        app.state.readiness = {}
        app.state.search = _start_search(settings, app.state.engine)
        app.state.readiness["search"] = lambda: "ok" if app.state.search.ready else "building"
        yield
        app.state.search.stop()
        if engine is None:
            app.state.engine.dispose()

    app = FastAPI(
        title="kbsvc",
        version=__version__,
        description="Knowledge base and semantic search for hospital IT departments.",
        lifespan=lifespan,
        dependencies=[Depends(entry_visibility)],
    )
    app.state.settings = settings
    app.state.secret_key = secret_key(settings)
    app.state.metrics = Metrics(app)
    configure_logging(settings.log_level, settings.log_format)
    errors.install(app)
    middleware.install(app, settings)
    for router in discover():
        app.include_router(router)
    # Web UI assets (CSS, JS, images); package data, so an installed wheel serves them too.
    app.mount("/static", StaticFiles(packages=[("api.web", "static")]), name="static")
    return app
