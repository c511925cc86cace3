"""Reports over HTTP: JSON, CSV / XLSX downloads that parse back, monthly PDF, page, clicks."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from kbsvc.analytics import demo


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    demo.seed(engine)
    return engine


def test_reports_need_a_key(client: TestClient) -> None:
    r = client.get("/api/v1/reports/demand")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_bad_dates_are_422(client: TestClient, reviewer_headers: dict[str, str]) -> None:
    r = client.get("/api/v1/reports/demand?from=2025-06-31", headers=reviewer_headers)
    assert r.status_code == 422 and "from" in r.json()["message"]
    r = client.get("/api/v1/reports/reuse?from=2025-06-02&to=2025-06-01", headers=reviewer_headers)
    assert r.status_code == 422


def test_json_reports(client: TestClient, reviewer_headers: dict[str, str], seeded: Engine) -> None:
    d = client.get(
        "/api/v1/reports/demand?from=2025-01-01&to=2025-12-31", headers=reviewer_headers
    ).json()
    assert d["period"] == {"from": "2025-01-01", "to": "2025-12-31"}
    assert d["total"] == 348 and len(d["by_month"]) == 12
    assert sum(map(sum, d["matrix"]["counts"])) == 348
    reuse = client.get("/api/v1/reports/reuse", headers=reviewer_headers).json()
    assert 0 < reuse["link_rate"] < 1 and reuse["top_entries"]
    gaps = client.get("/api/v1/reports/gaps", headers=reviewer_headers).json()
    assert gaps["search_topics"][0]["label"] == "手术室无影灯不亮"
    health = client.get("/api/v1/reports/health", headers=reviewer_headers).json()
    assert health["by_status"]["published"] > 0


def test_csv_has_bom_and_parses_back(
    client: TestClient, reviewer_headers: dict[str, str], seeded: Engine
) -> None:
    r = client.get("/api/v1/reports/demand?format=csv&table=by_category", headers=reviewer_headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["类别", "工单数"]
    assert sum(int(n) for _, n in rows[1:]) == 348
    matrix = client.get("/api/v1/reports/demand?format=csv", headers=reviewer_headers)
    head = next(csv.reader(io.StringIO(matrix.content.decode("utf-8-sig"))))
    assert head[0] == "科室" and "HIS" in head and head[-1] == "合计"
    bad = client.get("/api/v1/reports/demand?format=csv&table=nope", headers=reviewer_headers)
    assert bad.status_code == 422


def test_xlsx_has_one_sheet_per_table(
    client: TestClient, reviewer_headers: dict[str, str], seeded: Engine
) -> None:
    from openpyxl import load_workbook

    r = client.get("/api/v1/reports/reuse?format=xlsx", headers=reviewer_headers)
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:3] == ["关联率趋势", "高复用知识", "从未复用"]
    trend = list(wb["关联率趋势"].iter_rows(values_only=True))
    assert trend[0][0] == "月份" and trend[1][0] == "2025-01"


def test_monthly_pdf(client: TestClient, reviewer_headers: dict[str, str], seeded: Engine) -> None:
    from pypdf import PdfReader

    r = client.get("/api/v1/reports/monthly.pdf?month=2025-06", headers=reviewer_headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "2025-06" in text and "月度小结" in text
    assert (
        client.get(
            "/api/v1/reports/monthly.pdf?month=2025-13", headers=reviewer_headers
        ).status_code
        == 422
    )


def test_reports_page_renders_svg_heatmap(
    client: TestClient, reviewer_headers: dict[str, str], seeded: Engine
) -> None:
    r = client.get("/reports", headers=reviewer_headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert html.count("<svg") >= 5
    # Imported 门诊收费处 / 医保结算 are stored in the vocabulary's spelling.
    assert "科室 × 系统 工单热力图" in html and "收费处" in html and ">医保<" in html
    assert "医保结算" not in html
    assert "知识关联率趋势" in html and "手术室无影灯不亮" in html
    assert 'src="http' not in html and 'href="http' not in html  # nothing from outside
    assert 'href="/reports/insight.css"' in html
    assert client.get("/reports/insight.css").headers["content-type"].startswith("text/css")


def test_reports_page_asks_for_login(client: TestClient) -> None:
    r = client.get("/reports?from=2025-01-01", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_click_logging(client: TestClient, reviewer_headers: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/search-log/0123456789abcdef0123456789abcdef/clicks",
        json={"entry_id": 5, "action": "helpful"},
        headers=reviewer_headers,
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "log_id": "0123456789abcdef0123456789abcdef",
        "entry_id": 5,
        "action": "helpful",
    }
    bad = client.post("/api/v1/search-log/x/clicks", json={"entry_id": 5}, headers=reviewer_headers)
    assert bad.status_code == 422


def test_reports_are_for_reviewers(client: TestClient, viewer_headers: dict[str, str]) -> None:
    # Reports list draft, flagged and overdue entries, which viewers must not see.
    r = client.get("/api/v1/reports/health", headers=viewer_headers)
    assert r.status_code == 403 and "reviewer" in r.json()["message"]


def test_out_of_range_month_is_422(client: TestClient, reviewer_headers: dict[str, str]) -> None:
    """Regression (schemathesis): month=0887-08 was a 500 (strftime writes year 887 short)."""
    for month in ("0887-08", "9999-12"):
        r = client.get(
            "/api/v1/reports/monthly.pdf", params={"month": month}, headers=reviewer_headers
        )
        assert r.status_code == 422 and r.json()["code"] == "validation_failed"
    r = client.get(
        "/api/v1/reports/demand", params={"from": "0001-01-01"}, headers=reviewer_headers
    )
    assert r.status_code == 422


def test_spreadsheets_keep_hostile_ticket_text_as_text(
    client: TestClient, editor_headers: dict[str, str], reviewer_headers: dict[str, str]
) -> None:
    """Regression (schemathesis): a control character in ticket data broke the XLSX (500);
    a value starting with = must never become a formula."""
    from openpyxl import load_workbook

    tickets = [
        {"external_id": "X1", "title": "打印失败", "department": '=HYPERLINK("http://x")'},
        {
            "external_id": "X2",
            "title": "登录\x01失败",
            "department": "内科\x1f",
            "system": "H\x02IS",
        },
    ]
    assert client.post("/api/v1/tickets", json=tickets, headers=editor_headers).status_code == 200
    url = "/api/v1/reports/demand"
    r = client.get(url, params={"format": "xlsx", "table": "x\x01y"}, headers=reviewer_headers)
    assert r.status_code == 200, r.text
    cells = [
        c.value
        for ws in load_workbook(io.BytesIO(r.content)).worksheets
        for row in ws.iter_rows()
        for c in row
    ]
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)
    assert '\'=HYPERLINK("http://x")' in cells
    csv_body = client.get(url, params={"format": "csv"}, headers=reviewer_headers).text
    assert "\n=" not in csv_body and ",=" not in csv_body
