"""Middleware, outermost first: context, hosts, CORS, body size, body scan, rate, audit."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.trustedhost import TrustedHostMiddleware

from api.middleware.audit import AuditMiddleware
from api.middleware.bodyscan import BodyScanMiddleware
from api.middleware.context import RequestContextMiddleware
from api.middleware.cors import DynamicCORSMiddleware
from api.middleware.limits import BodyLimitMiddleware, BodyTooLarge
from api.middleware.ratelimit import RateLimitMiddleware
from kbsvc.config import Settings

__all__ = ["BodyTooLarge", "install"]


def install(app: FastAPI, settings: Settings) -> None:
    """Add the stack; Starlette wraps the last added outermost, hence the reverse order."""
    app.add_middleware(AuditMiddleware)
    app.add_middleware(RateLimitMiddleware, settings=settings)
    app.add_middleware(BodyScanMiddleware)
    app.add_middleware(BodyLimitMiddleware, settings=settings)
    app.add_middleware(DynamicCORSMiddleware, settings=settings)
    app.add_middleware(
        TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts, www_redirect=False
    )
    app.add_middleware(RequestContextMiddleware, trusted_proxies=settings.trusted_proxies)
