"""The OCR worker: attachment rows with `ocr_status = pending` are its durable job queue.

A row is claimed with a conditional UPDATE that sets a lease (one worker wins it, on any host);
recognition runs outside any transaction; the masked text is written and, for a live
attachment, the entry is marked changed so the index picks the text up. A failure backs off
exponentially and gives up after `ocr.max_attempts`; a worker that dies mid-image leaves the
lease to run out and the row is tried again. Never on a request path.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from kbsvc.attachments.models import Attachment, AttachmentBlob, AttachmentState, OcrStatus
from kbsvc.attachments.ocr import OcrEngine
from kbsvc.config import Settings
from kbsvc.db import rowcount
from kbsvc.entries import changes
from kbsvc.privacy.pii import scrub_text
from kbsvc.timeutil import utcnow

log = logging.getLogger("kbsvc.ocr")


class OcrWorker:
    """Recognises pending attachments; several may run (threads, processes, hosts)."""

    def __init__(self, settings: Settings, db_engine: Engine, engine: OcrEngine | None = None):
        self.settings, self.db_engine = settings, db_engine
        self.cfg = settings.attachments.ocr
        self.engine = engine or OcrEngine(self.cfg.threads)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _claim(self, now: datetime) -> int | None:
        free = or_(col(Attachment.ocr_lease_until).is_(None), col(Attachment.ocr_lease_until) < now)
        with Session(self.db_engine) as session:
            ids = session.execute(
                select(col(Attachment.id))
                .where(
                    col(Attachment.ocr_status) == OcrStatus.pending.value,
                    col(Attachment.ocr_next_at) <= now,
                    free,
                )
                .order_by(col(Attachment.ocr_next_at), col(Attachment.id))
                .limit(5)
            ).scalars()
            for row_id in list(ids):
                won = session.execute(
                    update(Attachment)
                    .where(
                        col(Attachment.id) == row_id,
                        col(Attachment.ocr_status) == OcrStatus.pending.value,
                        free,
                    )
                    .values(ocr_lease_until=now + timedelta(seconds=self.cfg.lease_s))
                )
                session.commit()
                if rowcount(won) == 1:
                    return int(row_id)
        return None

    def run_once(self) -> bool:
        """Recognise one due attachment; False when none was due."""
        row_id = self._claim(utcnow())
        if row_id is None:
            return False
        with Session(self.db_engine) as session:
            blob = session.get(AttachmentBlob, row_id)
            data = blob.data if blob is not None else b""
        try:
            text, error = self.engine.recognise(data), ""
        except Exception as exc:  # any decoder/runtime failure is retried, then recorded
            text, error = "", f"{type(exc).__name__}: {exc}"[:1000]
            log.warning("ocr of attachment %s failed: %s", row_id, error)
        self._finish(row_id, text, error)
        return True

    def _finish(self, row_id: int, text: str, error: str) -> None:
        with Session(self.db_engine) as session:
            row = session.get(Attachment, row_id)
            if row is None:
                return  # purged while it was being read
            row.ocr_lease_until = None
            if error:
                row.ocr_attempts += 1
                row.ocr_error = error
                if row.ocr_attempts >= self.cfg.max_attempts:
                    row.ocr_status = OcrStatus.failed
                else:
                    delay = self.cfg.backoff_s * 2 ** (row.ocr_attempts - 1)
                    row.ocr_next_at = utcnow() + timedelta(seconds=delay)
            else:
                masked = scrub_text(text, self.settings.privacy, field="ocr")
                row.ocr_text, row.ocr_pii = masked.text, bool(masked.findings)
                row.ocr_status, row.ocr_error = OcrStatus.done, ""
                if row.state == AttachmentState.live:
                    changes.touch(session, row.entry_id)  # reindex the entry with the text
            session.add(row)
            session.commit()

    def drain(self, limit: int = 1000) -> int:
        """Recognise every due attachment now (CLI, tests); returns how many were handled."""
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kbsvc-ocr", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup must not kill the worker
                log.exception("ocr worker pass failed")
                busy = False
            if not busy:
                self._stop.wait(self.cfg.poll_interval_s)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
