"""Batched import gives what row-by-row capture gives: tickets, entries, tags, links, masking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from kbsvc import db
from kbsvc.config import ExtraPattern, PrivacySettings, Settings
from kbsvc.entries import service as entries
from kbsvc.entries.capture import capture_ticket
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, EntryVersion, LinkKind
from kbsvc.intake import CaptureMode
from kbsvc.intake.mapping import Mapping
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_table, parse_table
from kbsvc.privacy.pii import scrub_ticket_dicts, scrub_ticket_in
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket, TicketIn

PRIVACY = PrivacySettings()
ROWS: list[dict[str, Any]] = [
    {
        "external_id": f"GD-{i}",
        "title": title,
        "symptom": symptom,
        "cause": "驱动版本过旧",
        "solution": solution,
        "system": system,
        "department": dept,
        "tags": tags,
        "handler": "刘洋 13912345678" if i % 3 == 0 else "刘洋",
    }
    for i, (title, symptom, solution, system, dept, tags) in enumerate(
        [
            (
                "打印机不出纸",
                "患者张伟的发票打不出来，电话13812345678",
                "重装驱动",
                "HIS",
                "收费处",
                "打印机",
            ),
            ("", "PACS影像调阅很慢，住院号20240315", "清理缓存", "PACS", "放射科", "影像、性能"),
            ("医生站登录失败", "CA证书过期无法登录", "更新CA证书", "HIS系统", "门诊", ""),
            ("自助机缺纸", "自助机没纸了不出条", "", "自助机", "门诊", "打印机"),  # no solution
            ("检验结果不回传", "LIS接口报错 12床", "重启接口服务", "LIS", "检验科", "接口"),
            ("打印机不出纸", "门诊打印机卡纸", "取出纸张", "HIS", "门诊", "打印机,卡纸"),
        ]
    )
]


def _engine(tmp: Path, name: str) -> Engine:
    settings = Settings(data_dir=tmp / name, _env_file=None)  # type: ignore[call-arg]
    eng = db.make_engine(settings)
    db.upgrade(eng)
    return eng


def _table(rows: list[dict[str, Any]]) -> Any:
    blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    return read_table(blob, "t.jsonl", max_rows=1000)


def _cite_before_import(session: Session) -> int:
    """An entry that cites GD-4 before that ticket is imported (its text joins the index)."""
    entry = entries.create(
        session,
        data=entries.EntryCreate(title="接口服务重启", solution="重启"),
        actor="t",
        status=EntryStatus.published,
    )
    entries.link_ticket(
        session,
        entry_id=entry.id or 0,
        source="itsm",
        external_id="GD-4",
        kind=LinkKind.cited,
        actor="t",
    )
    session.commit()
    return entry.id or 0


def _row_by_row(session: Session, rows: list[dict[str, Any]], status: EntryStatus) -> None:
    """The path every ticket took before batches: mask, upsert, capture, one at a time."""
    parsed, errors = parse_table(_table(rows), Mapping(), source="itsm")
    assert not errors
    for p in parsed:
        item, _found = scrub_ticket_in(p.item, PRIVACY)
        ticket, outcome = tickets.upsert_one(session, item)
        if ticket.solution.strip():
            capture_ticket(
                session,
                ticket,
                actor="import:itsm",
                status=status,
                refresh=outcome != "unchanged",
                privacy=PRIVACY,
            )
    session.commit()


def _state(session: Session) -> dict[str, Any]:
    skip = {"id", "created_at", "updated_at", "change_seq"}
    ticket_rows = [
        {k: v for k, v in t.model_dump().items() if k not in skip}
        for t in session.execute(select(Ticket).order_by(col(Ticket.external_id))).scalars()
    ]
    entry_rows = []
    for e in session.execute(select(Entry).order_by(col(Entry.id))).scalars():
        assert e.id is not None
        links = sorted(
            (lk.source, lk.external_id, str(lk.kind)) for lk in entries.links_of(session, e.id)
        )
        versions = session.execute(
            select(EntryVersion).where(col(EntryVersion.entry_id) == e.id)
        ).scalars()
        entry_rows.append(
            {
                **{k: v for k, v in e.model_dump().items() if k not in skip},
                "tags": entries.tags_of(session, [e.id])[e.id],
                "links": links,
                "versions": [(v.version, v.snapshot, v.author, v.note) for v in versions],
            }
        )
    return {"tickets": ticket_rows, "entries": entry_rows}


def test_batched_import_equals_row_by_row_capture(tmp_path: Path) -> None:
    for status in (CaptureMode.published, CaptureMode.draft):
        batched, single = _engine(tmp_path, f"b-{status}"), _engine(tmp_path, f"s-{status}")
        with Session(batched) as a, Session(single) as b:
            cited_a, cited_b = _cite_before_import(a), _cite_before_import(b)
            # Two batches prepared in two worker processes, whatever the machine's cores.
            report = import_table(
                a,
                _table(ROWS),
                source="itsm",
                capture=status,
                privacy=PRIVACY,
                batch_size=4,
                workers=2,
            )
            a.commit()
            _row_by_row(b, ROWS, EntryStatus(status.value))
            assert report.imported == 6 and report.entries_created == 5
            got, want = _state(a), _state(b)
            assert got == want
            # Masked everywhere: ticket, raw row, entry, version snapshot.
            text = json.dumps(got, ensure_ascii=False)
            assert "13812345678" not in text and "张伟" not in text and "20240315" not in text
            assert "【电话】" in text and "【患者姓名】" in text
            # The citing entry was re-queued for the index when its ticket arrived, both ways.
            for s, cited in ((a, cited_a), (b, cited_b)):
                seq = s.get(Entry, cited).change_seq  # type: ignore[union-attr]
                assert seq > 2
        batched.dispose()
        single.dispose()


def test_reimport_is_idempotent_and_refreshes_changed_tickets(engine: Engine) -> None:
    """On the suite's database (PostgreSQL in CI's second run): multi-row inserts with RETURNING."""
    with Session(engine) as s:
        first = import_table(
            s, _table(ROWS), source="itsm", capture=CaptureMode.published, privacy=PRIVACY
        )
        s.commit()
        before = _state(s)
        again = import_table(
            s, _table(ROWS), source="itsm", capture=CaptureMode.published, privacy=PRIVACY
        )
        s.commit()
        assert (first.imported, first.entries_created) == (6, 5)
        assert (again.imported, again.updated, again.unchanged) == (0, 0, 6)
        assert again.entries_created == again.entries_updated == 0
        assert _state(s) == before
        changed = [dict(ROWS[0], solution="更换打印机")] + ROWS[1:]
        third = import_table(
            s, _table(changed), source="itsm", capture=CaptureMode.published, privacy=PRIVACY
        )
        s.commit()
        assert (third.updated, third.unchanged, third.entries_updated) == (1, 5, 1)
        link = s.execute(select(EntryLink).where(col(EntryLink.external_id) == "GD-0")).scalar_one()
        entry = s.get(Entry, link.entry_id)
        assert entry is not None and entry.solution == "更换打印机" and entry.version == 2
        assert len(s.execute(select(Entry)).scalars().all()) == 5


def test_batch_masking_equals_per_ticket_masking() -> None:
    items = [
        TicketIn(source="s", **{k: v for k, v in r.items() if k != "external_id"}, raw=dict(r))
        for r in ROWS
    ]
    items.append(TicketIn(source="s", title="病人ID号ABCD1234", tags=["床号3", "患者李娜"]))
    for privacy in (
        PRIVACY,
        PrivacySettings(keep_raw_ticket_text=True),
        PrivacySettings(extra_patterns=[ExtraPattern(kind="emp", pattern=r"工号\w+")]),
        PrivacySettings(enabled_kinds=["phone"]),
    ):
        one_by_one = [scrub_ticket_in(i, privacy) for i in items]
        dicts = scrub_ticket_dicts([i.model_dump() for i in items], privacy)
        batched = [(TicketIn.model_validate(fields), n) for fields, n in dicts]
        assert [i.model_dump() for i, _ in batched] == [i.model_dump() for i, _ in one_by_one]
        assert [n for _, n in batched] == [len(f) for _, f in one_by_one]


def test_a_row_whose_masked_text_is_invalid_is_a_row_error_naming_its_line(engine: Engine) -> None:
    """Masking can lengthen text (张伟 → 【患者姓名】): past a limit that row alone is refused."""
    long_title = "患者张伟" + "打" * 495  # 499 characters; 503 once the name is masked
    rows = [dict(ROWS[0], external_id="LONG", title=long_title), ROWS[1]]
    with Session(engine) as s:
        report = import_table(
            s, _table(rows), source="long", capture=CaptureMode.published, privacy=PRIVACY
        )
        s.commit()
    assert report.imported == 1 and report.invalid == 1
    assert [e.line for e in report.errors] == [1]
    assert "after masking" in report.errors[0].message and "title" in report.errors[0].message
