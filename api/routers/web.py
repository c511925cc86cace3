"""Web UI, widget script and demo pages (HTML, kept out of the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from api.web import notify, pages, render, reports, widget, workflow

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(workflow.router)
router.include_router(widget.router)
router.include_router(reports.router)
router.include_router(notify.router)

try:  # the handbook screens appear once the handbooks domain is installed
    from api.web import handbooks
except ImportError:  # pragma: no cover - only while kbsvc.handbooks is absent
    handbooks = None  # type: ignore[assignment]
if handbooks is not None:
    router.include_router(handbooks.router)
    render.templates.env.globals["handbooks_enabled"] = True
