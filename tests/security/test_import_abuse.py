"""Threat: an editor uploads a file crafted to burn memory or CPU, or to import wrong rows."""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import Workbook

from kbsvc.exceptions import TooLarge, ValidationFailed
from kbsvc.intake import readers


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _with_member(data: bytes, name: str, body: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info, body if info.filename == name else src.read(info.filename))
        if name not in src.namelist():
            zf.writestr(name, body)
    return out.getvalue()


def test_xlsx_bomb_is_refused_before_parsing() -> None:
    """Regression: a sharedStrings.xml inflating to 4 GiB drove the server past 8 GB RSS."""
    good = _xlsx([["标题", "描述"], ["打印失败", "卡纸"]])
    strings = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    bomb = _with_member(good, "xl/sharedStrings.xml", strings + b"<si><t>A</t></si>" * 400_000)
    assert len(bomb) < 100_000
    with pytest.raises(TooLarge, match="inflates"):
        readers.read_xlsx(bomb, max_rows=100, max_inflated=4 * 1024 * 1024)
    assert readers.read_xlsx(good, max_rows=100).rows[0].values["标题"] == "打印失败"


def test_xlsx_with_millions_of_empty_rows_stops_early() -> None:
    """Regression: 50M empty rows took 443 s and 4.6 GB (read-only mode fills the gaps up to
    the row the sheet's dimension claims); empty rows now count toward the row cap."""
    data = _xlsx([["标题"], ["打印失败"]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    far = b'<row r="50000000"><c r="A50000000" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = sheet.replace(b"</sheetData>", far + b"</sheetData>")
    sheet = sheet.replace(b'<dimension ref="A1:A2"/>', b'<dimension ref="A1:A50000000"/>')
    with pytest.raises(TooLarge, match="rows"):
        readers.read_xlsx(_with_member(data, "xl/worksheets/sheet1.xml", sheet), max_rows=100)


def test_too_many_columns_refused() -> None:
    """Regression: 100k columns took 145 s to de-duplicate (O(n²)); 1M took hours."""
    header = ",".join(["列"] * 100_000) + "\n"
    with pytest.raises(TooLarge, match="columns"):
        readers.read_csv((header + "a\n").encode(), max_rows=10)
    with pytest.raises(TooLarge, match="columns"):
        readers.read_xlsx(_xlsx([["标题"] * 600, ["x"] * 600]), max_rows=10)


def test_duplicate_headers_get_suffixes() -> None:
    names = readers._unique_headers(["标题", "标题", "", "标题", "标题.2"] + ["x"] * 400)
    assert names[:5] == ["标题", "标题.2", "column3", "标题.3", "标题.2.2"]
    assert len(set(names)) == len(names)


def test_unterminated_quote_is_an_error_naming_the_row() -> None:
    """Regression: one open quote swallowed the 47 rows after it; the import said imported: 2."""
    lines = ["工单号,标题,描述"] + [f"T{i},打印失败,卡纸" for i in range(48)]
    lines[3] = 'T2,"打印失败,卡纸'
    with pytest.raises(ValidationFailed, match="line 4"):
        readers.read_csv("\n".join(lines).encode(), max_rows=100)


def test_big5_is_decoded_as_big5_not_gb18030_mojibake() -> None:
    """Regression: a Big5 CSV was imported as GB18030 mojibake without an error."""
    text = (
        "標題,系統,描述\n印表機無法列印,HIS,門診掛號時印表機卡紙無法列印\n"
        "電腦開機藍屏,PACS,影像工作站開機後藍屏\n"
    )
    table = readers.read_csv(text.encode("big5"), max_rows=10)
    assert table.encoding.startswith("big5")
    assert table.headers == ["標題", "系統", "描述"]
    gb = "标题,系统\n打印机无法打印,HIS\n门诊挂号机蓝屏,PACS\n".encode("gb18030")
    assert readers.read_csv(gb, max_rows=10).encoding == "gb18030"
