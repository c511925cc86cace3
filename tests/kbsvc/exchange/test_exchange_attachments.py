"""Attachments travel in exchange files (files/<sha256>/<name>) and are checked again on import."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.attachments import service as attachments
from kbsvc.attachments import sniff
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import UnsupportedMedia
from kbsvc.exchange import service
from kbsvc.exchange.models import ENTRIES, MANIFEST
from tests import attachments_data as files
from tests.factories import make_entry

pytestmark = pytest.mark.postgres


def _attach(session: Session, settings: Settings, entry_id: int, name: str, data: bytes) -> None:
    clean = sniff.clean_upload(data, name, settings.attachments)
    attachments.add(
        session, entry_id=entry_id, upload=clean, principal=SYSTEM, settings=settings.attachments
    )
    session.commit()


def test_attachments_round_trip_through_an_exchange_file(
    settings: Settings, session: Session, sister: tuple[Settings, Engine]
) -> None:
    entry = make_entry(session, status=EntryStatus.draft, title="自助机发票打印报错")
    assert entry.id is not None
    _attach(session, settings, entry.id, "报错截图.png", files.png())
    _attach(session, settings, entry.id, "处理步骤.pdf", files.pdf(1))
    entry.status = EntryStatus.published
    session.add(entry)
    session.commit()
    data, manifest = service.export_kb(session, settings)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if n.startswith("files/")]
        line = zf.read(ENTRIES).decode()
    assert sorted(n.rsplit("/", 1)[1] for n in names) == sorted(["报错截图.png", "处理步骤.pdf"])
    assert all(n in manifest.sha256 for n in names) and "报错截图.png" in line

    cfg, eng = sister
    with Session(eng, expire_on_commit=False) as other:
        report = service.import_kb(other, cfg, data, actor="cli:test")
        other.commit()
        local = report.entries[0].entry_id
        assert local is not None
        got = attachments.live_of(other, [local])[local]
        assert [(a.filename, a.media_type) for a in got] == [
            ("报错截图.png", "image/png"),
            ("处理步骤.pdf", "application/pdf"),
        ]
        assert got[0].ocr_status == "pending"  # the receiving site reads the picture itself
        # Importing again adds nothing twice.
        service.import_kb(other, cfg, data, actor="cli:test")
        other.commit()
        assert len(attachments.live_of(other, [local])[local]) == 2


def test_a_disguised_file_in_an_exchange_file_is_refused(
    settings: Settings, session: Session, sister: tuple[Settings, Engine]
) -> None:
    make_entry(session, title="带附件的条目")
    data, _ = service.export_kb(session, settings)
    # Rewrite the zip with a PNG posing as a PDF, checksummed so only the content check stops it.
    src = zipfile.ZipFile(io.BytesIO(data))
    bad = files.png()
    name = f"files/{hashlib.sha256(bad).hexdigest()}/说明.pdf"
    entries_line = src.read(ENTRIES).decode().replace('"files":[]', f'"files":["{name}"]')
    manifest = src.read(MANIFEST).decode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr(ENTRIES, entries_line)
        zf.writestr(name, bad)
        zf.writestr(MANIFEST, manifest.replace('"entries.jsonl"', '"ignored"'))
    cfg, eng = sister
    with Session(eng) as other, pytest.raises(UnsupportedMedia):
        service.import_kb(other, cfg, out.getvalue(), actor="cli:test")
