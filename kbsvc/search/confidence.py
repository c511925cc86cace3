"""Confidence bands from the engine's calibration, fitted to the served KB at reindex time.

`indexer.calibration` turns each hit's evidence (coverage of the query's informative words,
margin, channel agreement, matched error codes) into a probability and reads the operating
point from the KB's own linked tickets; settings may pin the two thresholds instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kbsvc.config import SearchSettings
from kbsvc.search.models import Confidence

if TYPE_CHECKING:
    from indexer.engine import SearchEngine
    from indexer.retriever import Hit


def band(p: float, high: float, medium: float) -> Confidence:
    """Band of one calibrated probability."""
    if p >= high:
        return "high"
    if p >= medium:
        return "medium"
    return "low"


def bands(
    search_engine: SearchEngine, settings: SearchSettings, query: str, hits: Sequence[Hit]
) -> list[Confidence]:
    """One band per hit, in order (explicit settings win over the fitted thresholds)."""
    cal = search_engine.calibration
    high = settings.confidence_high if settings.confidence_high is not None else cal.high
    medium = settings.confidence_medium if settings.confidence_medium is not None else cal.medium
    medium = min(medium, high)
    return [band(p, high, medium) for p, _ in search_engine.rate(query, hits)]
