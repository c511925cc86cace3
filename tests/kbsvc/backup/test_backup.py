"""Backup → restore gives the same rows; a damaged or partial backup is refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kbsvc import db
from kbsvc.backup import service
from kbsvc.backup.models import MANIFEST, SETTINGS_FILE
from kbsvc.config import Settings
from kbsvc.exceptions import Conflict, ValidationFailed
from tests.kbsvc.backup.conftest import dump_tables

pytestmark = pytest.mark.postgres  # the same body runs on SQLite and, in the PG pass, PostgreSQL


def test_round_trip_restores_every_row(
    settings: Settings, seeded: Engine, empty_site: Settings, tmp_path: Path
) -> None:
    from kbsvc.exchange.service import site_id

    site = site_id(settings)  # exchange provenance must name the same site after a restore
    report = service.backup(settings, seeded, tmp_path / "nightly")
    assert report.tables["entries"] == 2 and report.tables["users"] == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

    service.restore(empty_site, tmp_path / "nightly")
    restored = db.make_engine(empty_site)
    try:
        before, after = dump_tables(seeded), dump_tables(restored)
    finally:
        restored.dispose()
    tables = ("tickets", "entries", "entry_versions", "entry_links", "users", "audit_events")
    for table in (*tables, "entry_attachments", "attachment_blobs"):
        assert before[table], table
    assert after == before
    assert site_id(empty_site) == site


def test_restored_site_rebuilds_its_index(
    settings: Settings, seeded: Engine, empty_site: Settings, tmp_path: Path
) -> None:
    from kbsvc.search.engine import build_search_engine

    service.backup(settings, seeded, tmp_path / "b")
    service.restore(empty_site, tmp_path / "b")
    assert not empty_site.index_dir.exists()  # the index is not in the backup
    empty_site.embedding.backend = "none"
    restored = db.make_engine(empty_site)
    search = build_search_engine(empty_site, restored)
    try:
        search.start()  # finds no index, rebuilds it from the restored database
        hits = search.search("LIS条码打印机卡纸", 5)
        with restored.connect() as conn:
            top = conn.execute(
                text("SELECT title FROM entries WHERE id = :i"), {"i": hits.hits[0].id}
            )
            assert top.scalar_one() == "LIS条码打印机卡纸"
    finally:
        search.stop()
        restored.dispose()
    assert empty_site.index_dir.is_dir()


def test_settings_are_kept_without_secrets(
    settings: Settings, seeded: Engine, tmp_path: Path
) -> None:
    settings.auth.secret_key = "k" * 40
    service.backup(settings, seeded, tmp_path / "b")
    kept = json.loads((tmp_path / "b" / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert kept["auth"]["secret_key"] == "***"
    assert kept["lifecycle"]["review_days_default"] == settings.lifecycle.review_days_default


def test_restore_refuses_a_non_empty_site(
    settings: Settings, seeded: Engine, tmp_path: Path
) -> None:
    service.backup(settings, seeded, tmp_path / "b")
    with pytest.raises(Conflict, match="restore only into an empty"):
        service.restore(settings, tmp_path / "b")
    with pytest.raises(Conflict, match="not empty"):
        service.backup(settings, seeded, tmp_path / "b")


def test_tampered_or_partial_backup_is_refused(
    settings: Settings, seeded: Engine, empty_site: Settings, tmp_path: Path
) -> None:
    service.backup(settings, seeded, tmp_path / "b")
    dump = next(p for p in (tmp_path / "b").iterdir() if p.name.startswith("kbsvc."))
    with open(dump, "r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00garbage")
    with pytest.raises(ValidationFailed, match="checksum"):
        service.restore(empty_site, tmp_path / "b")
    os.unlink(tmp_path / "b" / MANIFEST)
    with pytest.raises(ValidationFailed, match="not a complete"):
        service.restore(empty_site, tmp_path / "b")
    assert not empty_site.data_dir.exists() or not any(empty_site.data_dir.iterdir())


def test_backup_while_writing_is_a_consistent_snapshot(
    settings: Settings, seeded: Engine, empty_site: Settings, tmp_path: Path
) -> None:
    import threading

    from sqlmodel import Session

    from tests.factories import make_ticket

    stop = threading.Event()

    def write() -> None:
        n = 0
        with Session(seeded) as s:
            while not stop.is_set():
                make_ticket(s, external_id=f"LIVE-{n}", title=f"备份期间写入{n}")
                n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reports = [service.backup(settings, seeded, tmp_path / f"b{i}") for i in range(3)]
    finally:
        stop.set()
        writer.join()
    assert len({r.tables["tickets"] for r in reports}) > 1  # writes really went on meanwhile
    # Restore checks the rows of every table against the manifest taken with the snapshot.
    service.restore(empty_site, tmp_path / "b1")
