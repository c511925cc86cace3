"""Prometheus metrics: request latency by route template, suggest latency, index gauges."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class IndexCollector(Collector):
    """At scrape time: the search engine's status() (size, last applied change sequence) and
    the database's latest change sequence, so lag is visible."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Registration must not scrape: the lifespan has not built the engines yet.
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily]:
        status = self.app.state.search_engine.status()
        yield GaugeMetricFamily(
            "kbsvc_index_size", "Entries in the search index", float(status["entries"])
        )
        yield GaugeMetricFamily(
            "kbsvc_index_applied_seq",
            "Last entry change sequence applied to the index",
            float(status["last_seq"]),
        )
        latest = self._latest_seq()
        if latest is not None:
            yield GaugeMetricFamily(
                "kbsvc_entries_latest_seq", "Latest entry change sequence in the database", latest
            )

    def _latest_seq(self) -> float | None:
        from sqlmodel import Session

        from kbsvc.entries.changes import latest_seq

        try:
            with Session(self.app.state.db_engine) as session:
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
