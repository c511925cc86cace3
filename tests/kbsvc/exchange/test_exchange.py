"""Export → import into an empty KB gives the same entries as drafts; imports are idempotent."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries import workflow
from kbsvc.entries.models import Entry, EntryStatus, EntryUpdate
from kbsvc.exceptions import ValidationFailed
from kbsvc.exchange import service
from kbsvc.exchange.models import ENTRIES, EntryProvenance
from kbsvc.vocab.models import VocabKind, VocabTerm
from tests.factories import make_entry

pytestmark = pytest.mark.postgres

FIELDS = ("title", "symptom", "cause", "solution", "workaround", "system", "module", "category")


def _seed(session: Session) -> list[Entry]:
    shown = [
        make_entry(session),
        make_entry(
            session, title="LIS条码打印机卡纸", system="LIS", module="条码", tags=["打印机"]
        ),
        make_entry(session, title="医保结算提示未备案", system="医保", category="医保"),
    ]
    make_entry(session, status=EntryStatus.draft, title="草稿不导出")
    make_entry(session, title="仅限心内科", restricted_departments=["心内科"])
    session.add(
        VocabTerm(kind=VocabKind.system, value="手麻系统", aliases=["手术麻醉", "麻醉系统"])
    )
    session.commit()
    return shown


def _local(session: Session) -> list[Entry]:
    session.expire_all()
    return list(session.exec(select(Entry).order_by(Entry.id)).all())  # type: ignore[arg-type]


def test_export_import_round_trip_is_idempotent(
    settings: Settings, session: Session, sister: tuple[Settings, Engine]
) -> None:
    settings.exchange.site_name = "市第一人民医院"
    shown = _seed(session)
    data, manifest = service.export_kb(session, settings)
    assert manifest.entries == 3 and manifest.vocabulary >= 1
    cfg, eng = sister
    with Session(eng, expire_on_commit=False) as other:
        report = service.import_kb(other, cfg, data, actor="cli:test")
        other.commit()
        assert (report.created, report.unchanged, report.site_name) == (3, 0, "市第一人民医院")
        got = _local(other)
        assert [e.status for e in got] == [EntryStatus.draft] * 3
        assert [[getattr(e, f) for f in FIELDS] for e in got] == [
            [getattr(e, f) for f in FIELDS] for e in shown
        ]
        tags = entries.tags_of(other, [e.id or 0 for e in got])
        assert tags[got[1].id or 0] == ["打印机"]
        provs = other.exec(select(EntryProvenance)).all()
        assert sorted(p.source_entry_id for p in provs) == sorted(e.id or 0 for e in shown)
        pacs = other.exec(select(VocabTerm).where(VocabTerm.value == "手麻系统")).one()
        assert pacs.aliases == ["手术麻醉", "麻醉系统"]

        again = service.import_kb(other, cfg, data, actor="cli:test")
        other.commit()
        assert (again.created, again.unchanged, again.vocabulary_added) == (0, 3, 0)
        assert len(_local(other)) == 3

        # The source improves an entry: a newer export updates the still-unreviewed draft.
        entries.update(
            session,
            entry_id=shown[0].id or 0,
            data=EntryUpdate(solution="更新CA证书并重启"),
            actor="t",
            principal=SYSTEM,
        )
        newer, _ = service.export_kb(session, settings)
        upd = service.import_kb(other, cfg, newer, actor="cli:test")
        other.commit()
        assert (upd.updated, upd.unchanged) == (1, 2)
        assert _local(other)[0].solution == "更新CA证书并重启"

        # Once reviewed and published here, the local copy is not overwritten.
        local_id = _local(other)[0].id or 0
        workflow.transition(
            other, entry_id=local_id, action="submit", actor="user:a", principal=SYSTEM
        )
        workflow.transition(
            other, entry_id=local_id, action="publish", actor="user:b", principal=SYSTEM
        )
        entries.update(
            session,
            entry_id=shown[0].id or 0,
            data=EntryUpdate(cause="证书链不完整"),
            actor="t",
            principal=SYSTEM,
        )
        latest, _ = service.export_kb(session, settings)
        kept = service.import_kb(other, cfg, latest, actor="cli:test")
        assert kept.kept == 1 and _local(other)[0].cause == "CA Key证书过期"


def test_import_flags_likely_duplicates(
    settings: Settings, session: Session, sister: tuple[Settings, Engine]
) -> None:
    _seed(session)
    data, _ = service.export_kb(session, settings, system="LIS")
    cfg, eng = sister
    with Session(eng, expire_on_commit=False) as other:
        mine = make_entry(other, title="LIS条码打印机卡纸", system="LIS", module="条码")
        report = service.import_kb(other, cfg, data, actor="cli:test")
        assert report.created == 1 and report.entries[0].duplicates == [mine.id]
        assert report.possible_duplicates == 1


def test_filters_and_bad_files(
    settings: Settings, session: Session, sister: tuple[Settings, Engine]
) -> None:
    _seed(session)
    data, manifest = service.export_kb(session, settings, tag="打印机")
    assert manifest.entries == 1 and manifest.filter == {"tag": "打印机"}
    # Regression: a date filter arrives naive (CLI --since, API since=) and means local time.
    _, recent = service.export_kb(session, settings, since=datetime(2020, 1, 1))
    _, future = service.export_kb(session, settings, since=datetime(2999, 1, 1))
    assert (recent.entries, future.entries) == (3, 0)
    with pytest.raises(ValidationFailed, match="exported by this site"):
        service.import_kb(session, settings, data, actor="t")
    cfg, eng = sister
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, body.replace(b"LIS", b"HIS") if info.filename == ENTRIES else body)
    with Session(eng) as other:
        with pytest.raises(ValidationFailed, match="checksum"):
            service.import_kb(other, cfg, broken.getvalue(), actor="t")
        with pytest.raises(ValidationFailed, match="not a zip"):
            service.import_kb(other, cfg, b"PK-not-really", actor="t")
        assert _local(other) == []


def test_system_filter_accepts_an_alias(settings: Settings, session: Session) -> None:
    make_entry(session, title="叫号屏不刷新", system="叫号")  # stored as the canonical 叫号系统
    _, manifest = service.export_kb(session, settings, system="叫号")
    assert manifest.entries == 1
