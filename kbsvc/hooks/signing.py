"""Request signing: HMAC-SHA256 over "<timestamp>.<raw body>", five minutes of clock skew."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from kbsvc.exceptions import Unauthorized

MAX_SKEW_S = 300
PREFIX = "sha256="


def new_secret() -> str:
    """A fresh shared secret (256 bits, URL-safe)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Kbsvc-Signature value for this timestamp and body."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def verify(
    secret: str, timestamp: str | None, sig: str | None, body: bytes, now: float | None = None
) -> None:
    """Unauthorized unless the signature matches and the timestamp is within MAX_SKEW_S."""
    if not timestamp or not sig:
        raise Unauthorized("send X-Kbsvc-Timestamp and X-Kbsvc-Signature headers")
    try:
        ts = int(timestamp.strip())
    except ValueError:
        raise Unauthorized("X-Kbsvc-Timestamp must be unix seconds") from None
    # Checked after the MAC too, but the signature covers the timestamp, so order is cosmetic.
    if not hmac.compare_digest(signature(secret, timestamp.strip(), body), sig.strip().lower()):
        raise Unauthorized("signature does not match (HMAC-SHA256 of '<timestamp>.<raw body>')")
    skew = abs((time.time() if now is None else now) - ts)
    if skew > MAX_SKEW_S:
        raise Unauthorized(
            f"timestamp is {int(skew)} s away from server time (at most {MAX_SKEW_S} s)",
            max_skew_s=MAX_SKEW_S,
        )
