"""The OCR job queue: failures back off and give up; leases keep two workers off one row."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.attachments import service, sniff
from kbsvc.attachments.models import Attachment, AttachmentBlob, OcrStatus
from kbsvc.attachments.worker import OcrWorker
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from kbsvc.timeutil import utcnow
from tests import attachments_data as files
from tests.cli import run_kbsvc
from tests.factories import make_entry


def _pending(session: Session, settings: Settings) -> int:
    entry = make_entry(session, status=EntryStatus.draft)
    clean = sniff.clean_upload(files.png(), "a.png", settings.attachments)
    added = service.add(
        session,
        entry_id=entry.id or 0,
        upload=clean,
        principal=SYSTEM,
        settings=settings.attachments,
    )
    session.commit()
    return added.id


def test_a_failing_image_backs_off_then_gives_up(
    session: Session, engine: Engine, settings: Settings
) -> None:
    row_id = _pending(session, settings)
    blob = session.get(AttachmentBlob, row_id)
    assert blob is not None
    blob.data = b"not an image any more"  # what a damaged row would look like
    session.commit()
    settings.attachments.ocr.max_attempts = 2
    worker = OcrWorker(settings, engine)
    assert worker.drain() == 1
    session.expire_all()
    row = session.get(Attachment, row_id)
    assert row is not None and row.ocr_status == OcrStatus.pending and row.ocr_attempts == 1
    assert row.ocr_next_at is not None and row.ocr_next_at > utcnow() + timedelta(seconds=20)
    assert "UnidentifiedImageError" in row.ocr_error and row.ocr_lease_until is None
    assert worker.drain() == 0  # not due yet
    row.ocr_next_at = utcnow()
    session.commit()
    assert worker.drain() == 1
    session.expire_all()
    row = session.get(Attachment, row_id)
    assert row is not None and row.ocr_status == OcrStatus.failed and row.ocr_attempts == 2


def test_a_leased_row_is_not_claimed_twice(
    session: Session, engine: Engine, settings: Settings
) -> None:
    row_id = _pending(session, settings)
    first, second = OcrWorker(settings, engine), OcrWorker(settings, engine)
    now = utcnow()
    assert first._claim(now) == row_id
    assert second._claim(now) is None
    # A worker that died: once its lease ran out, another takes the row.
    later = now + timedelta(seconds=settings.attachments.ocr.lease_s + 1)
    assert second._claim(later) == row_id


def test_cli_status_lists_the_queue(session: Session, settings: Settings) -> None:
    _pending(session, settings)
    out = run_kbsvc(settings, "attachments", "status")
    assert out.returncode == 0, out.stderr
    assert "1 pending" in out.stdout
