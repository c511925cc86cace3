"""Import of real-looking exports: GB18030 CSV, XLSX, JSONL; bad rows, --strict, re-import."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy import text as text_sql
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.config import PrivacySettings
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, EntryUpdate, LinkKind
from kbsvc.exceptions import TooLarge, ValidationFailed
from kbsvc.intake import CaptureMode
from kbsvc.intake.mapping import parse_map_options
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_bytes, import_table
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket

PRIVACY = PrivacySettings()
FIXTURE = Path(__file__).parents[2] / "fixtures" / "zhidian_export_gb18030.csv"


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def run(session: Session, data: bytes, name: str = "export.csv", **kw: object):  # type: ignore[no-untyped-def]
    kw.setdefault("source", "zd")
    kw.setdefault("privacy", PrivacySettings())
    return import_bytes(session, data, name, max_rows=10_000, **kw)  # type: ignore[arg-type]


def test_gb18030_csv_with_chinese_headers_and_multiline_cells(session: Session) -> None:
    report = run(session, FIXTURE.read_bytes())
    assert (report.format, report.encoding) == ("csv", "gb18030")
    assert (report.rows, report.imported, report.updated, report.skipped) == (8, 5, 0, 3)
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (7, "opened_at"),
        (12, "opened_at"),
        (13, "duplicate ticket 'ZD-2401' (first on line 2)"),
    ]
    assert "昨天下午" in report.errors[0].message

    first = tickets.get_by_key(session, source="zd", external_id="ZD-2401")
    assert first is not None
    assert first.solution.splitlines() == [
        "1. 联系CA厂商远程更新证书",
        "2. 重新插拔CA Key",
        "3. 在证书助手中刷新后重新登录",
    ]
    assert first.symptom.startswith('心内科3诊室医生登录门诊医生站时提示"CA证书无效"')
    assert (first.department, first.system, first.module) == ("心内科", "HIS", "门诊医生站")
    assert (first.priority, first.handler, first.tags) == ("紧急", "张伟", ["CA证书", "登录"])
    assert first.opened_at is not None and first.opened_at.replace(tzinfo=None) in (
        datetime(2025, 3, 14, 8, 21),
        datetime(2025, 3, 14, 0, 21),
    )  # SQLite drops the zone
    assert first.raw["工单号"] == "ZD-2401" and first.raw["渠道"] == "电话"

    pharmacy = tickets.get_by_key(session, source="zd", external_id="ZD-2402")
    assert pharmacy is not None and pharmacy.title == "" and pharmacy.description == "药房反映多次"
    assert pharmacy.tags == ["打印模板", "摆药单"] and pharmacy.priority == "中"
    insurance = tickets.get_by_key(session, source="zd", external_id="ZD-2406")
    assert insurance is not None and "\n多名患者均受影响" in insurance.symptom
    assert insurance.priority == "高"
    lis = tickets.get_by_key(session, source="zd", external_id="ZD-2405")
    assert lis is not None and lis.category == "" and lis.cause == ""


def test_reimport_is_idempotent(session: Session) -> None:
    data = FIXTURE.read_bytes()
    run(session, data, capture=CaptureMode.draft)
    before = (count(session, Ticket), count(session, Entry), count(session, EntryLink))
    again = run(session, data, capture=CaptureMode.draft)
    assert (again.imported, again.updated, again.unchanged, again.skipped) == (0, 0, 5, 8)
    assert (again.entries_created, again.entries_updated) == (0, 0)
    assert (count(session, Ticket), count(session, Entry), count(session, EntryLink)) == before
    assert before == (5, 5, 5)


def test_utf8_bom_and_a_changed_row_updates(session: Session) -> None:
    text = "编号,标题,问题现象,解决方案\nA1,打印机脱机,收费处打印机显示脱机,重启打印服务\n"
    report = run(session, b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert (report.encoding, report.imported) == ("utf-8-sig", 1)
    changed = text.replace("重启打印服务", "重装打印机驱动")
    report = run(session, changed.encode("utf-8"))
    assert (report.imported, report.updated, report.skipped) == (0, 1, 0)
    ticket = tickets.get_by_key(session, source="zd", external_id="A1")
    assert ticket is not None and ticket.solution == "重装打印机驱动"


def test_rows_without_id_get_a_stable_one(session: Session) -> None:
    data = "标题,故障现象,处理方法\n网络中断,三楼护士站网络中断,更换交换机端口\n".encode("gbk")
    first = run(session, data)
    second = run(session, data)
    assert (first.imported, second.imported, second.unchanged) == (1, 0, 1)
    ext = session.execute(select(Ticket.external_id)).scalar_one()
    assert ext.startswith("auto-")


def test_xlsx(session: Session) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "工单编号",
            "标题",
            "故障现象",
            "原因",
            "处理过程",
            "科室",
            "系统",
            "报修时间",
            "解决时间",
            "优先级",
        ]
    )
    sheet.append(
        [
            20250001,
            "叫号屏不显示",
            "门诊二楼叫号屏黑屏",
            "信息发布盒死机",
            "断电重启信息发布盒",
            "门诊部",
            "叫号系统",
            datetime(2025, 3, 1, 9, 30),
            "2025-03-01 10:00",
            "低",
        ]
    )
    sheet.append([None, None, None, None, None, None, None, None, None, None])
    sheet.append(
        [
            20250002,
            "收费窗口读卡失败",
            "收费窗口读不出社保卡",
            "读卡器驱动损坏",
            "重装读卡器驱动",
            "收费处",
            "医保结算",
            "2025年3月2日",
            "不是日期",
            "中",
        ]
    )
    buf = io.BytesIO()
    book.save(buf)
    report = run(session, buf.getvalue(), "export.xlsx")
    assert (report.format, report.imported, report.invalid) == ("xlsx", 1, 1)
    assert report.errors[0].line == 4 and "resolved_at" in report.errors[0].message
    ticket = tickets.get_by_key(session, source="zd", external_id="20250001")
    assert ticket is not None and ticket.system == "叫号系统" and ticket.priority == "低"


def test_jsonl_with_english_fields_and_bad_lines(session: Session) -> None:
    rows = [
        {
            "external_id": "J-1",
            "title": "PACS调阅慢",
            "symptom": "影像调阅慢",
            "solution": "清理缓存",
            "tags": ["PACS", "性能"],
            "opened_at": "2025-03-01 08:00",
            "fault_key": "pacs-slow",
        },
        {"external_id": "J-2", "title": "", "symptom": "", "solution": ""},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines.insert(1, "{not json")
    lines.insert(2, "")
    report = run(session, "\n".join(lines).encode("utf-8"), "tickets.jsonl")
    assert report.imported == 1
    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [
        (2, "invalid JSON"),
        (4, "no title, symptom, description or solution"),
    ]
    ticket = tickets.get_by_key(session, source="zd", external_id="J-1")
    assert ticket is not None and ticket.tags == ["PACS", "性能"]
    assert ticket.raw["fault_key"] == "pacs-slow"


def test_strict_writes_nothing(session: Session) -> None:
    report = run(session, FIXTURE.read_bytes(), strict=True, capture=CaptureMode.draft)
    assert not report.committed and report.invalid == 3 and report.skipped == 8
    assert count(session, Ticket) == count(session, Entry) == 0


def test_map_option_overrides_recognition(session: Session) -> None:
    data = "单号,现象,处理\nM1,自助机黑屏,重启\n".encode()
    report = run(session, data, mapping=parse_map_options(["symptom=现象", "solution=处理"]))
    assert report.imported == 1
    ticket = tickets.get_by_key(session, source="zd", external_id="M1")
    assert ticket is not None and (ticket.symptom, ticket.solution) == ("自助机黑屏", "重启")


def test_batches_commit_independently(session: Session) -> None:
    data = ["编号,标题,处理方法"] + [f"B{i},故障{i},处理{i}" for i in range(7)]
    table = read_table("\n".join(data).encode(), "x.csv", max_rows=100)
    steps: list[int] = []
    report = import_table(
        session, table, source="b", batch_size=3, progress=steps.append, privacy=PRIVACY
    )
    assert report.imported == 7 and steps == [3, 3, 1]


def test_row_cap() -> None:
    data = "编号,标题\n" + "\n".join(f"{i},t{i}" for i in range(5))
    with pytest.raises(TooLarge, match="more than 3 rows"):
        read_table(data.encode(), "x.csv", max_rows=3)


def test_capture_reimport_updates_the_same_entry(session: Session) -> None:
    text = "编号,标题,故障现象,处理方法\nC1,HIS卡顿,门诊收费HIS卡顿,重启应用服务器\nC2,无解,偶发,\n"
    report = run(session, text.encode(), capture=CaptureMode.published)
    assert (report.imported, report.entries_created) == (2, 1)  # C2 has no solution
    entry = session.execute(select(Entry)).scalar_one()
    assert entry.status == EntryStatus.published and entry.solution == "重启应用服务器"
    seq = entry.change_seq

    report = run(session, text.encode(), capture=CaptureMode.published)
    session.refresh(entry)
    assert report.entries_updated == 0 and entry.change_seq == seq  # unchanged: no bump

    report = run(
        session,
        text.replace("重启应用服务器", "扩容应用服务器内存").encode(),
        capture=CaptureMode.published,
    )
    assert (report.updated, report.entries_created, report.entries_updated) == (1, 0, 1)
    assert count(session, Entry) == 1
    session.refresh(entry)
    assert entry.solution == "扩容应用服务器内存" and entry.version == 2
    links = session.execute(select(EntryLink)).scalars().all()
    assert [(lk.external_id, lk.kind) for lk in links] == [("C1", LinkKind.source)]

    # Once a person edits the entry, re-imports leave their edit alone.
    entries.update(
        session,
        entry_id=entry.id or 0,
        data=EntryUpdate(title="人工修订"),
        actor="user:li",
        principal=SYSTEM,
    )
    run(
        session,
        text.replace("重启应用服务器", "第三种处理").encode(),
        capture=CaptureMode.published,
    )
    session.refresh(entry)
    assert entry.title == "人工修订" and entry.solution == "扩容应用服务器内存"


def test_failing_batch_is_rolled_back_and_redone_row_by_row(session: Session) -> None:
    # A database-side refusal (here a trigger) that no parser check can foresee.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text_sql(
                "CREATE FUNCTION refuse_bad() RETURNS trigger AS $$ BEGIN "
                "IF NEW.external_id = 'BAD' THEN "
                "RAISE EXCEPTION 'refused by the database'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        session.execute(
            text_sql(
                "CREATE TRIGGER refuse_bad BEFORE INSERT ON tickets FOR EACH ROW "
                "EXECUTE FUNCTION refuse_bad()"
            )
        )
    else:
        session.execute(
            text_sql(
                "CREATE TRIGGER refuse_bad BEFORE INSERT ON tickets WHEN NEW.external_id = 'BAD' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
            )
        )
    session.commit()
    data = "编号,标题,处理方法\nG1,故障1,处理1\nBAD,故障2,处理2\nG3,故障3,处理3\nG4,故障4,处理4\n"
    table = read_table(data.encode(), "x.csv", max_rows=100)
    report = import_table(
        session, table, source="b", batch_size=3, capture=CaptureMode.draft, privacy=PRIVACY
    )
    assert (report.imported, report.invalid, report.entries_created) == (3, 1, 3)
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "not saved: refused by the database")
    ]
    assert count(session, Ticket) == count(session, Entry) == count(session, EntryLink) == 3

    session.execute(text_sql("DELETE FROM entry_links"))
    session.execute(text_sql("DELETE FROM entry_tags"))
    session.execute(text_sql("DELETE FROM entries"))
    session.execute(text_sql("DELETE FROM tickets"))
    session.commit()
    with pytest.raises(ValidationFailed, match="line 3: not saved: refused by the database"):
        import_table(session, table, source="b", strict=True, privacy=PRIVACY)
    assert count(session, Ticket) == 0
