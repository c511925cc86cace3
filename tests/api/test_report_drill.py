"""Drill-down over HTTP: every report link resolves to the tickets it counted; Chinese errors;
a readable monthly PDF (pdftotext); handling time through the ticket API and the import."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from kbsvc.analytics import demo

CELL = re.compile(
    r'<a href="(/reports/tickets\?[^"]+)" class="drill" data-cell="([^"]+)">'
    r"<rect[^>]*><title>[^<]*: (\d+)</title>"
)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    demo.seed(engine)
    return engine


def _api(href: str) -> str:
    return "/api/v1/reports/tickets" + html.unescape(href)[len("/reports/tickets") :]


def test_every_report_link_resolves_to_its_tickets(
    client: TestClient, reviewer_headers: dict[str, str], seeded: Engine
) -> None:
    page = client.get("/reports?from=2025-01-01&to=2025-12-31", headers=reviewer_headers).text
    cells = CELL.findall(page)
    assert len(cells) > 50
    folded = [c for c in cells if c[1].startswith("其他科室")]
    assert folded, "the folded 其他科室 row drills down too"
    for href, cell, count in cells:
        r = client.get(_api(href) + "&limit=200", headers=reviewer_headers)
        assert r.status_code == 200, (cell, r.text)
        body = r.json()
        assert body["total"] == int(count), cell
        dept, system = cell.split("|")
        if not dept.startswith("其他") and not system.startswith("其他"):
            assert {(t["department"], t["system"]) for t in body["data"]} == {(dept, system)}
    links = {html.unescape(h) for h in re.findall(r'href="(/reports/tickets\?[^"]+)"', page)}
    assert len(links) > len(cells)  # bars and table rows as well
    for link in sorted(links):
        assert client.get(link, headers=reviewer_headers).status_code == 200, link
    # State bars and health rows lead to their entries.
    sets = set(re.findall(r'href="/reports/entries\?set=(\w+)"', page))
    assert {"published", "draft", "never_reused"} <= sets
    health = client.get("/api/v1/reports/health", headers=reviewer_headers).json()
    for name in sorted(sets):
        assert (
            client.get(f"/reports/entries?set={name}", headers=reviewer_headers).status_code == 200
        )
        listed = client.get(f"/api/v1/reports/entries?set={name}", headers=reviewer_headers).json()
        if name in health["by_status"]:
            assert len(listed["data"]) == min(200, health["by_status"][name]), name
    never = client.get("/api/v1/reports/entries?set=never_reused", headers=reviewer_headers).json()
    assert len(never["data"]) == min(200, health["published_never_reused"])
    bad = client.get("/api/v1/reports/entries?set=nope", headers=reviewer_headers)
    assert bad.status_code == 422 and "条目集合" in bad.json()["message"]
    first = html.unescape(cells[0][0])
    listing = client.get(first, headers=reviewer_headers).text
    numbers = [
        t["external_id"]
        for t in client.get(_api(cells[0][0]), headers=reviewer_headers).json()["data"]
    ]
    assert numbers and all(f"<b>{n}</b>" in listing for n in numbers)
    assert 'href="/entries/' in listing


def test_reversed_dates_are_explained_in_chinese(
    client: TestClient, reviewer_headers: dict[str, str]
) -> None:
    html_headers = {**reviewer_headers, "accept": "text/html"}
    for path in ("/reports", "/reports/tickets"):
        r = client.get(f"{path}?from=2025-06-30&to=2025-06-01", headers=html_headers)
        assert r.status_code == 422 and "晚于结束日期" in r.text and "after" not in r.text
        r = client.get(f"{path}?from=2025-02-30", headers=html_headers)
        assert r.status_code == 422 and "不是有效日期" in r.text
    r = client.get("/reports/tickets?month=2025-6", headers=html_headers)
    assert r.status_code == 422 and "参数不正确" in r.text
    api = client.get(
        "/api/v1/reports/tickets?from=2025-06-30&to=2025-06-01", headers=reviewer_headers
    )
    assert api.status_code == 422
    assert api.json()["code"] == "validation_failed" and "晚于结束日期" in api.json()["message"]
    assert api.json()["details"] == {"field": "from"}


def _pdftotext(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"]
    if pages:
        args += ["-f", str(pages[0]), "-l", str(pages[-1])]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True, text=True).stdout


WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)"[^>]*>([^<]*)</word>')


def _legend(pdf: Path) -> list[str]:
    """The labels under the heatmap's 工单数 legend heading, top to bottom (word positions)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    words = [(float(x), float(y), html.unescape(w)) for x, y, w in WORD.findall(out)]
    hx, hy, _ = min((w for w in words if w[2] == "工单数"), key=lambda w: w[1])
    return [
        w for x, y, w in sorted(words, key=lambda w: w[1]) if hx < x < hx + 25 and hy < y < hy + 150
    ]


def test_monthly_pdf_is_readable(
    client: TestClient, reviewer_headers: dict[str, str], seeded: Engine, tmp_path: Path
) -> None:
    r = client.get("/api/v1/reports/monthly.pdf?month=2025-06", headers=reviewer_headers)
    assert r.status_code == 200
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(r.content)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))  # type: ignore[union-attr]
    assert 2 <= pages <= 4
    for n in range(1, pages + 1):  # no empty or near-empty pages
        assert len(_pdftotext(pdf, n).split()) > 30, f"page {n} is nearly empty"
    text = _pdftotext(pdf)
    # Trends cover the 12 months up to June, not one bar for June.
    assert "趋势显示 2024-07-01 至 2025-06-30" in text
    for month in ("24-07", "25-01", "25-06"):
        assert month in text
    # The heatmap legend: whole, distinct bins (it read "0, 0, 1, 2, ≥2").
    assert _legend(pdf) == ["0", "1", "2"]
    assert "解决用时（自然时间）" in text and "工作量" not in text


def test_handling_time_through_api_and_import(
    client: TestClient,
    editor_headers: dict[str, str],
    reviewer_headers: dict[str, str],
) -> None:
    r = client.post(
        "/api/v1/tickets",
        json={
            "external_id": "H1",
            "title": "打印机卡纸",
            "system": "打印机",
            "handling_minutes": 40,
        },
        headers=editor_headers,
    )
    assert r.status_code == 200 and r.json()["data"][0]["handling_minutes"] == 40
    bad = client.post(
        "/api/v1/tickets",
        json={"external_id": "H0", "title": "x", "handling_minutes": -5},
        headers=editor_headers,
    )
    assert bad.status_code == 422
    csv = (
        "工单号,标题,系统,科室,工时（小时）\n"
        "H2,医保读卡失败,医保结算,心血管内科,1.5\n"
        "H3,网络中断,网络,心内科,\n"
    )
    imp = client.post(
        "/api/v1/tickets/import",
        files={"file": ("t.csv", csv.encode("utf-8"), "text/csv")},
        headers=editor_headers,
    )
    assert imp.status_code == 200 and imp.json()["imported"] == 2, imp.text
    d = client.get("/api/v1/reports/demand", headers=reviewer_headers).json()
    assert d["effort_basis"] == "handling" and d["effort_label"] == "处理工作量（工时）"
    assert {e["system"]: e["total_hours"] for e in d["effort"]} == {"医保": 1.5, "打印机": 0.67}
    assert d["effort_with_handling"] == 2
    rows = client.get(
        "/api/v1/reports/tickets", params={"department": "心内科"}, headers=reviewer_headers
    ).json()["data"]
    assert {t["external_id"]: t["handling_minutes"] for t in rows} == {"H2": 90, "H3": None}
