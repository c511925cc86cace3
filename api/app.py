"""FastAPI application factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

from api import errors
from api.routers import discover
from kbsvc import __version__, db
from kbsvc.config import Settings, get_settings


def _start_search(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    """Load (or rebuild) the search index once per process and follow the change sequence."""
    from indexer.engine import SearchEngine

    search = SearchEngine(settings, engine)
    search.start()
    search.run_background(settings.search.sync_interval_s)
    return search


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
    )
    app.state.settings = settings
    errors.install(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    for router in discover():
        app.include_router(router)
    # Web UI assets (CSS, JS, images); package data, so an installed wheel serves them too.
    app.mount("/static", StaticFiles(packages=[("api.web", "static")]), name="static")
    return app
