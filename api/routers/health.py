"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.uow import UnitOfWorkRoute
from kbsvc.exceptions import NotFound
from kbsvc.search import choice

router = APIRouter(tags=["ops"], route_class=UnitOfWorkRoute)


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready"}})
def readyz(request: Request) -> JSONResponse:
    """Database reachable, indexes caught up; search setup and its confidence operating point."""
    checks: dict[str, str] = {}
    try:
        with request.app.state.db_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {type(exc).__name__}"
    # Probes registered by the search service: index loaded and caught up, model loaded.
    for name, probe in getattr(request.app.state, "readiness", {}).items():
        try:
            checks[name] = str(probe())
        except Exception as exc:  # noqa: BLE001 - a failing probe means not ready
            checks[name] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    # What the search service runs on, with the confidence operating point fitted to this KB.
    search = request.app.state.search_engine.status()
    # What `auto` chose for this KB at the last reindex, and why (or what settings pinned).
    search["auto"] = choice.describe(request.app.state.settings)
    return JSONResponse(
        {"status": "ok" if ready else "not ready", "checks": checks, "search": search},
        status_code=200 if ready else 503,
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        404: {"description": "Metrics disabled"},
    },
)
def metrics(request: Request) -> Response:
    """Prometheus metrics: request latency by route, suggest latency, index size and sequence."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    if not request.app.state.settings.metrics_enabled:
        raise NotFound("metrics are disabled")
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
