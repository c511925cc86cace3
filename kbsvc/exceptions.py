"""Domain exceptions; the API and CLI translate them once, at the edge."""

from __future__ import annotations

from typing import Any


class KbError(Exception):
    """Base of every expected, user-facing error."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(KbError):
    status = 404
    code = "not_found"


class ValidationFailed(KbError):
    status = 422
    code = "validation_failed"


class Conflict(KbError):
    """A write raced another one or would create a duplicate."""

    status = 409
    code = "conflict"


class Forbidden(KbError):
    status = 403
    code = "forbidden"


class Unauthorized(KbError):
    status = 401
    code = "unauthorized"


class AccountDisabled(Forbidden):
    """The directory (or an admin) disabled this account."""

    code = "account_disabled"


class NoRole(Forbidden):
    """Signed in correctly, but no group grants a role in the knowledge base."""

    code = "no_role"


class TooLarge(KbError):
    status = 413
    code = "too_large"


class UnsupportedMedia(KbError):
    """The bytes are not of a type the route accepts (sniffed from the content, not the name)."""

    status = 415
    code = "unsupported_media_type"


class RateLimited(KbError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int, **details: Any) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class ServiceUnavailable(KbError):
    status = 503
    code = "unavailable"


class DiskFull(KbError):
    """The data directory's (or the database's) disk is full: nothing was saved."""

    status = 507
    code = "insufficient_storage"
