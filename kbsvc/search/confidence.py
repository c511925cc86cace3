"""Confidence bands on the fused score, calibrated on the eval set (bench/calibrate.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from kbsvc.search.models import Confidence

# Used only if the shipped calibration file lacks the running configuration.
FALLBACK = {"high": 0.5, "medium": 0.3}


@lru_cache(maxsize=1)
def calibration() -> dict[str, dict[str, float]]:
    """Shipped thresholds per configuration key ("lexical", "lsa", "sbert", ...)."""
    path = resources.files("kbsvc.search") / "confidence.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.get("thresholds", {}).items() if isinstance(v, dict)}


def thresholds(
    key: str, high: float | None = None, medium: float | None = None
) -> tuple[float, float]:
    """(high, medium) for a configuration; explicit settings win over the shipped file."""
    cal = calibration().get(key, FALLBACK)
    h = high if high is not None else float(cal.get("high", FALLBACK["high"]))
    m = medium if medium is not None else float(cal.get("medium", FALLBACK["medium"]))
    return h, min(m, h)


def band(score: float, high: float, medium: float) -> Confidence:
    """Band of one fused score."""
    if score >= high:
        return "high"
    if score >= medium:
        return "medium"
    return "low"
