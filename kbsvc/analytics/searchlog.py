"""Search logging off the request path: ids up front, rows written in batches by one thread."""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from indexer.text import normalize
from kbsvc.analytics.models import ClickAction, SearchClick, SearchKind, SearchLog
from kbsvc.config import PrivacySettings
from kbsvc.db import rowcount
from kbsvc.privacy.pii import scrub_text
from kbsvc.timeutil import utcnow

log = logging.getLogger(__name__)

_LONG_DIGITS = re.compile(r"(?<![0-9])\d{11,}(?![0-9])")  # medical record / card numbers
_TRAILING_DIGITS = re.compile(r"[0-9]+$")
LOG_QUERY_CHARS = 500


def head(text: str, limit: int = LOG_QUERY_CHARS) -> str:
    """The first `limit` characters, cut before scrubbing so a 2 MB body costs no more than a line.

    A number cut in half at the limit is dropped whole: a partial phone number is too
    short for the masks to recognise, yet still personal.
    """
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return _TRAILING_DIGITS.sub("", cut) if text[limit] in "0123456789" else cut


def scrub(text: str, privacy: PrivacySettings) -> str:
    """Mask personal data per the site's privacy rules, plus any long number, before storing.

    The text is normalised first (the one toolkit's normaliser), so full-width digits and
    traditional characters cannot slip a number or a name past the patterns.
    """
    return _LONG_DIGITS.sub("[号码]", scrub_text(normalize(text), privacy).text)


class SearchLogWriter:
    """Bounded queue drained by a daemon thread; a full queue drops rows rather than block.

    One per process, built by the app lifespan (or a CLI command) and closed at shutdown.
    Rows are gathered for up to `linger_s` after the first one, so under load one transaction
    stores many searches instead of one each (a flush or close writes at once).
    """

    def __init__(
        self,
        db_engine: Engine,
        *,
        privacy: PrivacySettings,
        maxsize: int = 10_000,
        batch: int = 200,
        linger_s: float = 0.25,
    ) -> None:
        self.db_engine = db_engine
        self.privacy = privacy
        self.batch = batch
        self.linger_s = linger_s
        self.dropped = 0
        self._q: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
        self._thread.start()

    def submit(self, row: dict[str, Any]) -> None:
        try:
            self._q.put_nowait(row)
        except queue.Full:
            self.dropped += 1

    def flush(self, timeout: float = 10.0) -> None:
        """Block until everything submitted so far is written (tests, shutdown)."""
        done = threading.Event()
        self._q.put({"_flush": done})
        done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self.flush(timeout)
        self._q.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._q.get()
            rows: list[dict[str, Any]] = []
            events: list[threading.Event] = []
            until = time.monotonic() + self.linger_s
            while item is not None:
                if "_flush" in item:
                    events.append(item["_flush"])
                else:
                    rows.append(item)
                if len(rows) >= self.batch or events:
                    break
                try:
                    item = self._q.get(timeout=max(0.0, until - time.monotonic()))
                except queue.Empty:
                    break
            stopping = item is None  # close() queues None after its flush marker
            self._write(rows)
            for ev in events:
                ev.set()

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        try:
            for row in rows:
                # Masked here, on the writer thread, not on the request that asked.
                row["query"] = scrub(row["query"], self.privacy)[:LOG_QUERY_CHARS]
            with self.db_engine.begin() as conn:
                conn.execute(insert(SearchLog), rows)
        except Exception:  # noqa: BLE001 - logging must never break searching
            log.exception("could not write %d search log rows", len(rows))


def record_search(
    writer: SearchLogWriter,
    *,
    kind: SearchKind | str,
    query: str,
    filters: dict[str, Any] | None = None,
    result_ids: Sequence[int] = (),
    top_score: float | None = None,
    top_confidence: float | None = None,
    latency_ms: float = 0.0,
    caller: str = "",
    at: datetime | None = None,
) -> str:
    """Queue a log row and return its id at once (the row is written moments later)."""
    log_id = uuid.uuid4().hex
    writer.submit(
        {
            "id": log_id,
            "at": at or utcnow(),
            "kind": SearchKind(kind).value,
            "query": head(query),  # masked by the writer thread before it is stored
            "filters": {k: v for k, v in (filters or {}).items() if v not in (None, "", [])},
            "result_ids": [int(i) for i in result_ids][:50],
            "result_count": len(result_ids),
            "top_score": None if top_score is None else float(top_score),
            "top_confidence": None if top_confidence is None else float(top_confidence),
            "latency_ms": round(float(latency_ms), 2),
            "caller": caller[:120],
        }
    )
    return log_id


def record_click(
    session: Session, *, log_id: str, entry_id: int, action: ClickAction = ClickAction.click
) -> SearchClick:
    """Store a click / citation / feedback on a logged result."""
    click = SearchClick(log_id=log_id, entry_id=entry_id, action=action)
    session.add(click)
    session.flush()
    return click


def purge(session: Session, *, days: int, now: datetime | None = None) -> int:
    """Delete log rows and clicks older than `days`; returns the number of log rows removed."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    res = session.execute(delete(SearchLog).where(col(SearchLog.at) < cutoff))
    session.execute(delete(SearchClick).where(col(SearchClick.at) < cutoff))
    session.flush()
    return rowcount(res)


def purge_expired(db_engine: Engine, days: int) -> int:
    """Start-up hook: apply the retention setting; never fails start-up."""
    try:
        with Session(db_engine) as session:
            removed = purge(session, days=days)
            session.commit()
            return removed
    except Exception:  # noqa: BLE001
        log.exception("search log purge failed")
        return 0


# Confidence bands as numbers, so gap analysis can threshold them (analytics.gap_confidence).
BAND_VALUE = {"high": 1.0, "medium": 0.5, "low": 0.0}


def record_response(
    writer: SearchLogWriter,
    *,
    kind: SearchKind | str,
    query: str,
    filters: dict[str, Any],
    hits: Sequence[Any],
    took_ms: float,
    caller: str,
) -> str:
    """Log a suggest/search answer (hits carry .entry.id, .score, .confidence)."""
    top = hits[0] if hits else None
    return record_search(
        writer,
        kind=kind,
        query=query,
        filters=filters,
        result_ids=[h.entry.id for h in hits],
        top_score=top.score if top else None,
        top_confidence=BAND_VALUE.get(str(getattr(top.confidence, "value", top.confidence)))
        if top
        else None,
        latency_ms=took_ms,
        caller=caller,
    )
