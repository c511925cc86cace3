"""Prometheus metrics: request latency by route template, suggest latency, index gauges."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


def _read(obj: Any, names: tuple[str, ...]) -> float | None:
    """First attribute (value or zero-argument method), or key of status()/stats(), on `obj`."""
    if obj is None:
        return None
    stats: dict[str, Any] = {}
    for method in ("status", "stats"):
        if callable(getattr(obj, method, None)):
            # A scrape must not fail on a busy index.
            with contextlib.suppress(Exception):
                stats.update(dict(getattr(obj, method)()))
    for name in names:
        value = getattr(obj, name, None)
        if callable(value):
            try:
                value = value()
            except Exception:  # noqa: BLE001
                value = None
        if value is None:
            value = stats.get(name)
        if isinstance(value, int | float):
            return float(value)
    return None


class IndexCollector(Collector):
    """Reads `app.state.search_engine` at scrape time: size and last applied change sequence."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        search = getattr(self.app.state, "search_engine", None)
        size = _read(search, ("size", "entries", "count", "doc_count"))
        seq = _read(search, ("applied_seq", "last_seq"))
        if size is not None:
            yield GaugeMetricFamily("kbsvc_index_size", "Entries in the search index", size)
        if seq is not None:
            yield GaugeMetricFamily(
                "kbsvc_index_applied_seq", "Last entry change sequence applied to the index", seq
            )
        latest = self._latest_seq()
        if latest is not None:
            yield GaugeMetricFamily(
                "kbsvc_entries_latest_seq", "Latest entry change sequence in the database", latest
            )

    def _latest_seq(self) -> float | None:
        engine = getattr(self.app.state, "db_engine", None)
        if engine is None:
            return None
        from sqlmodel import Session

        from kbsvc.entries.changes import latest_seq

        try:
            with Session(engine) as session:
                return float(latest_seq(session))
        except Exception:  # noqa: BLE001 - /readyz reports database trouble, not /metrics
            return None


class Metrics:
    """One registry per app, so several apps (tests) never collide."""

    def __init__(self, app: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "kbsvc_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=_BUCKETS,
        )
        self.suggest = Histogram(
            "kbsvc_suggest_duration_seconds",
            "Suggest request latency",
            registry=self.registry,
            buckets=_BUCKETS,
        )
        self.registry.register(IndexCollector(app))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.requests.labels(method, route, str(status)).observe(seconds)
        if route.endswith("/suggest"):
            self.suggest.observe(seconds)
