"""Web UI, widget script and demo pages (HTML, kept out of the OpenAPI document)."""

from __future__ import annotations

from fastapi import APIRouter

from api.web import (
    admin,
    editing,
    handbooks,
    integrations,
    notify,
    pages,
    reports,
    widget,
    workflow,
)

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(workflow.router)
router.include_router(editing.router)
router.include_router(admin.router)
router.include_router(widget.router)
router.include_router(reports.router)
router.include_router(notify.router)
router.include_router(handbooks.router)
router.include_router(integrations.router)
