"""FastAPI application factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api import errors, middleware
from api.deps import entry_visibility
from api.logs import configure_logging
from api.metrics import Metrics
from api.routers import (
    admin,
    analytics,
    attachments,
    audit,
    auth,
    capture,
    citations,
    entries,
    exchange,
    handbooks,
    health,
    hooks,
    lifecycle,
    notify,
    search,
    tickets,
    vocab,
    web,
    widget,
)
from indexer.engine import SearchEngine
from kbsvc import __version__, db, storage
from kbsvc.analytics import searchlog
from kbsvc.attachments.worker import OcrWorker
from kbsvc.auth.keycache import KeyCache
from kbsvc.auth.sessions import secret_key
from kbsvc.auth.widgetkeys import DemoWidgetKeys
from kbsvc.config import Settings, get_settings
from kbsvc.handbooks.export import ExportLimiter
from kbsvc.handbooks.worker import ExportWorker
from kbsvc.notify import service as notify_service
from kbsvc.notify.worker import OutboxWorker
from kbsvc.search.engine import build_search_engine

# Mount order is match order: the fixed paths of one router precede the `{id}` paths of the next.
# Search first: every request is matched router by router, and suggest is the hot path (its two
# fixed paths match no other route; tests/api/test_wiring.py holds that).
ROUTERS = (
    search.router,
    admin.router,
    analytics.router,
    attachments.router,
    audit.router,
    auth.router,
    capture.router,
    citations.router,
    entries.router,
    exchange.router,
    handbooks.router,
    health.router,
    hooks.router,
    lifecycle.router,
    notify.router,
    tickets.router,
    vocab.router,
    web.router,
    widget.router,
)


def _start_search(settings: Settings, db_engine: Engine) -> SearchEngine:
    """Map the shared search index (one worker writes it) and follow the change sequence."""
    search_engine = build_search_engine(settings, db_engine, shared=True)
    search_engine.start()
    search_engine.run_background(
        settings.search.sync_interval_s, settings.search.publish_interval_s
    )
    return search_engine


def _start_notify(settings: Settings, db_engine: Engine) -> OutboxWorker:
    """Apply the channels declared in settings, then start the outbox worker (if enabled)."""
    with Session(db_engine) as session:
        notify_service.sync_settings_channels(session, settings.notify.channels)
        session.commit()
    worker = OutboxWorker(settings, db_engine)
    if settings.notify.worker:
        worker.start()
    return worker


def _start_ocr(settings: Settings, db_engine: Engine) -> OcrWorker:
    """The background recogniser of attached screenshots (never on a request path)."""
    worker = OcrWorker(settings, db_engine)
    if settings.attachments.ocr.enabled and settings.attachments.ocr.worker:
        worker.start()
    return worker


def create_app(settings: Settings | None = None, *, db_engine: Engine | None = None) -> FastAPI:
    """Build the app; every process singleton is created once, in the lifespan."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = app.state
        state.db_engine = db_engine or db.make_engine(settings)
        db.upgrade(state.db_engine)
        await run_in_threadpool(
            searchlog.purge_expired, state.db_engine, settings.analytics.search_log_days
        )
        state.search_log = searchlog.SearchLogWriter(state.db_engine, privacy=settings.privacy)
        state.key_cache = KeyCache(state.db_engine, check_every_s=settings.auth.key_check_s)
        state.export_limiter = ExportLimiter(settings.handbooks.max_concurrent_exports)
        state.demo_widget_keys = DemoWidgetKeys(state.db_engine)
        state.search_engine = _start_search(settings, state.db_engine)
        state.readiness = {
            "search": lambda: "ok" if state.search_engine.ready else "building",
            "disk": lambda: storage.readiness(settings.data_dir, settings.limits.min_free_mb),
        }
        state.notify_worker = _start_notify(settings, state.db_engine)
        state.ocr_worker = _start_ocr(settings, state.db_engine)
        state.export_worker = ExportWorker(
            settings, state.db_engine, state.search_engine, state.export_limiter
        )
        if settings.handbooks.export_worker:
            state.export_worker.start()
        yield
        state.export_worker.stop()
        state.ocr_worker.stop()
        state.notify_worker.stop()
        state.search_engine.stop()
        await run_in_threadpool(state.search_log.close, 5.0)
        if db_engine is None:
            state.db_engine.dispose()

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
    for router in ROUTERS:
        app.include_router(router)
    # Web UI assets (CSS, JS, images); package data, so an installed wheel serves them too.
    app.mount("/static", StaticFiles(packages=[("api.web", "static")]), name="static")
    return app
