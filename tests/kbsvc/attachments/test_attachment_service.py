"""Attachment service: the handbook hook honours visibility, merges carry pictures, sniff edges."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlmodel import Session

from kbsvc.attachments import service, sniff
from kbsvc.auth.models import SYSTEM, Principal, Role
from kbsvc.config import Settings
from kbsvc.entries import merge
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import TooLarge, ValidationFailed
from tests import attachments_data as files
from tests.factories import make_entry


def _attach(session: Session, settings: Settings, entry_id: int | None, data: bytes) -> int:
    assert entry_id is not None
    clean = sniff.clean_upload(data, "shot.png", settings.attachments)
    added = service.add(
        session, entry_id=entry_id, upload=clean, principal=SYSTEM, settings=settings.attachments
    )
    session.commit()
    return added.id


def test_images_for_export_gives_what_the_reader_may_see(
    session: Session, settings: Settings
) -> None:
    open_entry = make_entry(session, status=EntryStatus.draft, title="公开条目")
    secret = make_entry(
        session, status=EntryStatus.draft, title="科内条目", restricted_departments=["输血科"]
    )
    _attach(session, settings, open_entry.id, files.png(200, 100))
    _attach(session, settings, secret.id, files.png(color="red"))
    for e in (open_entry, secret):
        e.status = EntryStatus.published
        session.add(e)
    session.commit()
    reader = Principal(kind="user", name="v", role=Role.viewer, departments=("信息科",))
    ids = [open_entry.id or 0, secret.id or 0]
    got = service.images_for_export(session, ids, reader)
    assert list(got) == [open_entry.id]
    img = got[open_entry.id or 0][0]
    assert (img.media_type, img.width, img.height) == ("image/png", 200, 100)
    assert Image.open(io.BytesIO(img.data)).size == (200, 100)
    assert set(service.images_for_export(session, ids, SYSTEM)) == set(ids)


def test_merge_carries_the_losers_pictures_once(session: Session, settings: Settings) -> None:
    survivor = make_entry(session, status=EntryStatus.draft, title="保留条目")
    loser = make_entry(session, status=EntryStatus.draft, title="重复条目")
    _attach(session, settings, survivor.id, files.png())
    _attach(session, settings, loser.id, files.png())  # the same picture
    _attach(session, settings, loser.id, files.png(color="green"))
    _s, _l, moved = merge.merge(
        session,
        survivor_id=survivor.id or 0,
        loser_id=loser.id or 0,
        actor="t",
        principal=SYSTEM,
    )
    assert moved["attachments"] == 1
    assert len(service.live_of(session, [survivor.id or 0])[survivor.id or 0]) == 2


def test_sniff_edges(settings: Settings) -> None:
    cfg = settings.attachments
    with pytest.raises(ValidationFailed, match="多重格式|不完整"):
        sniff.clean_upload(files.pdf() + files.png(), "a.pdf", cfg)  # a PNG appended to a PDF
    cfg.max_pixels = 10_000
    with pytest.raises(TooLarge, match="像素"):
        sniff.clean_upload(files.png(200, 200), "big.png", cfg)
    # No extension: the sniffed one is added; a path in the name is dropped.
    assert sniff.clean_upload(files.png(), "..\\..\\截图", settings.attachments).filename == (
        "截图.png"
    )
