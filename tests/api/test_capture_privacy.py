"""Patient identifiers are masked at import and at capture; the draft shows what was masked."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.config import PrivacySettings, Settings
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_table
from kbsvc.tickets import service as tickets
from tests.factories import make_entry

H = dict[str, str]
TICKET = {
    "source": "itsm",
    "external_id": "INC-7",
    "title": "12床腕带打印机打印空白",
    "symptom": "患者张三的腕带空白，电话13812345678",
    "solution": "重新安装碳带",
    "system": "打印机",
}


def test_capture_masks_and_reports_when_raw_is_kept(
    client: TestClient, settings: Settings, session: Session, editor_headers: H
) -> None:
    settings.privacy.keep_raw_ticket_text = True  # the ticket keeps the original text
    published = make_entry(session, title="腕带打印机打印空白", symptom="腕带空白", system="打印机")
    stored = client.post("/api/v1/tickets", json=TICKET, headers=editor_headers).json()["data"][0]
    assert stored["symptom"] == TICKET["symptom"]
    r = client.post(f"/api/v1/tickets/{stored['id']}/capture", headers=editor_headers)
    draft = r.json()
    assert draft["title"] == "【床号】腕带打印机打印空白"
    assert draft["symptom"] == "患者【患者姓名】的腕带空白，电话【电话】"
    findings = [(f["field"], f["kind"], f["replacement"]) for f in draft["pii_findings"]]
    assert findings == [
        ("title", "bed", "【床号】"),
        ("symptom", "name", "【患者姓名】"),
        ("symptom", "phone", "【电话】"),
    ]
    assert [d["id"] for d in draft["duplicates"]] == [published.id]
    again = client.post(f"/api/v1/tickets/{stored['id']}/capture", headers=editor_headers)
    assert again.status_code == 200 and again.json()["id"] == draft["id"]


def test_import_stores_masked_text_and_raw_row(session: Session) -> None:
    line = (
        '{"external_id": "GD-1", "title": "出院结算失败", "symptom": "患者李四住院号ZY2025001，'
        '12床", "solution": "重新结算"}\n'
    )
    report = import_table(
        session,
        read_table(line.encode(), "x.jsonl", max_rows=10),
        source="itsm",
        privacy=PrivacySettings(),
    )
    assert report.imported == 1 and report.pii_masked == 3
    ticket = tickets.get_by_key(session, source="itsm", external_id="GD-1")
    assert ticket is not None
    assert ticket.symptom == "患者【患者姓名】住院号【住院号】，【床号】"
    assert "李四" not in str(ticket.raw) and "ZY2025001" not in str(ticket.raw)
    again = import_table(
        session,
        read_table(line.encode(), "x.jsonl", max_rows=10),
        source="itsm",
        privacy=PrivacySettings(),
    )
    assert again.unchanged == 1  # masking is deterministic, so re-imports stay idempotent
