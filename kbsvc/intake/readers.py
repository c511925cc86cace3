"""File readers: CSV (UTF-8, BOM, GB18030 detected), XLSX and JSONL into rows with line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from kbsvc.exceptions import TooLarge, ValidationFailed

FORMATS = ("csv", "xlsx", "jsonl")
_EXT = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
# charset-normalizer names for Chinese legacy encodings; GB18030 is their common superset.
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "hz", "cp936", "euc_cn"}
_BIG5_FAMILY = {"big5", "big5hkscs", "cp950"}
# Caps applied before the expensive part of parsing (a header of a million columns, a zip
# member that inflates to gigabytes, a sheet that claims fifty million rows).
MAX_COLUMNS = 500
# Text-only workbooks compress 5-20x, so 200 MiB inflated covers any honest 50 MB upload.
XLSX_MAX_INFLATED = 200 * 1024 * 1024


@dataclass
class Row:
    """One record: `line` is the CSV physical line where it starts, the XLSX row or JSONL line."""

    line: int
    values: dict[str, Any]


@dataclass
class Table:
    format: str
    headers: list[str]
    rows: list[Row] = field(default_factory=list)
    encoding: str = ""
    # Problems found while reading (unparseable JSON lines), reported like row errors.
    bad_lines: list[tuple[int, str]] = field(default_factory=list)


def detect_format(name: str, data: bytes) -> str:
    """csv, xlsx or jsonl, from the extension or, failing that, the content."""
    fmt = _EXT.get(PurePath(name).suffix.lower())
    if fmt:
        return fmt
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return "jsonl"
    return "csv"


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding name: BOMs first, then strict UTF-8, then charset-normalizer."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    guess = (best.encoding if best else "").lower()
    # Short Chinese samples are often guessed as big5 or a Latin code page; a clean GB18030
    # decode is the better bet for a mainland hospital export.
    if guess in _BIG5_FAMILY:
        return _big5_or_gb(data)
    if guess not in _GB_FAMILY:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            if guess:
                return data.decode(guess, errors="replace"), guess
            raise ValidationFailed(
                "cannot tell the file's text encoding; save it as UTF-8"
            ) from None
    return data.decode("gb18030", errors="replace"), "gb18030"


def _common_ratio(text: str) -> float:
    """Share of non-ASCII characters in GB2312 (everyday simplified Chinese and punctuation)."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return 1.0
    common = 0
    for c in wide:
        try:
            c.encode("gb2312")
            common += 1
        except UnicodeEncodeError:
            pass
    return common / len(wide)


def _big5_or_gb(data: bytes) -> tuple[str, str]:
    # Big5 bytes decode as GB18030 without error, into rare characters and private-use
    # mojibake; a real GB file decodes to everyday characters almost entirely.
    gb = data.decode("gb18030", errors="replace")
    if _common_ratio(gb[:20_000]) >= 0.9:
        return gb, "gb18030"
    try:
        return data.decode("big5hkscs"), "big5hkscs"
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the file looks like Big5 (traditional Chinese) but does not decode cleanly;"
            " save it as UTF-8"
        ) from None


def _unique_headers(raw: list[Any]) -> list[str]:
    if len(raw) > MAX_COLUMNS:
        raise TooLarge(f"the header has {len(raw)} columns; at most {MAX_COLUMNS} are accepted")
    headers: list[str] = []
    taken: set[str] = set()
    next_n: dict[str, int] = {}  # per base name: the next suffix to try, so de-dup stays O(n)
    for i, cell in enumerate(raw):
        name = str(cell).strip() if cell is not None and str(cell).strip() else f"column{i + 1}"
        base = name
        n = next_n.get(base, 2)
        while name in taken:
            name, n = f"{base}.{n}", n + 1
        next_n[base] = n
        taken.add(name)
        headers.append(name)
    return headers


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(data: bytes, max_rows: int) -> Table:
    text, encoding = decode(data)
    stream = io.StringIO(text, newline="")
    first = text.split("\n", 1)[0]
    # strict: a quote left open is an error naming its line, not a field that silently
    # swallows every following row up to the end of the file.
    reader = csv.reader(stream, delimiter=_delimiter(first), strict=True)
    table = Table(format="csv", headers=[], encoding=encoding)
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if not table.headers:
                table.headers = _unique_headers(record)
                continue
            if len(record) > MAX_COLUMNS:
                raise TooLarge(f"line {line}: more than {MAX_COLUMNS} columns")
            _add(table, Row(line, dict(zip(table.headers, record, strict=False))), max_rows)
    except csv.Error as exc:
        raise ValidationFailed(f"line {start}: CSV cannot be parsed: {exc}") from None
    return table


def _check_inflated(data: bytes, max_bytes: int) -> None:
    """Refuse a zip whose members inflate past `max_bytes` before any XML is parsed."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            # zipfile stops reading a member at its declared size, so these sizes bound the work.
            total = sum(info.file_size for info in zf.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed(f"not a readable XLSX workbook: {exc}") from None
    if total > max_bytes:
        raise TooLarge(
            f"the workbook inflates to {total} bytes; at most {max_bytes} are accepted",
            max_bytes=max_bytes,
        )


def read_xlsx(data: bytes, max_rows: int, max_inflated: int = XLSX_MAX_INFLATED) -> Table:
    from openpyxl import load_workbook

    _check_inflated(data, max_inflated)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise ValidationFailed(f"not a readable XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        table = Table(format="xlsx", headers=[])
        # Empty rows count too: a sheet may claim millions of them in a few bytes of XML.
        last_row = 2 * max_rows + 1000
        for number, cells in enumerate(
            sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), start=1
        ):
            if number > last_row:
                raise TooLarge(f"the sheet has more than {last_row} rows", max_rows=max_rows)
            if len(cells) > MAX_COLUMNS and any(c is not None for c in cells[MAX_COLUMNS:]):
                raise TooLarge(f"row {number}: more than {MAX_COLUMNS} columns")
            cells = cells[:MAX_COLUMNS]
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            if not table.headers:
                table.headers = _unique_headers(list(cells))
                continue
            _add(table, Row(number, dict(zip(table.headers, cells, strict=False))), max_rows)
    finally:
        book.close()
    return table


def read_jsonl(data: bytes, max_rows: int) -> Table:
    text, encoding = decode(data)
    table = Table(format="jsonl", headers=[], encoding=encoding)
    seen: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            table.bad_lines.append((number, f"invalid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            table.bad_lines.append((number, "expected a JSON object per line"))
            continue
        for key in obj:
            seen.setdefault(str(key), None)
        _add(table, Row(number, {str(k): v for k, v in obj.items()}), max_rows)
    table.headers = list(seen)
    return table


def _add(table: Table, row: Row, max_rows: int) -> None:
    if len(table.rows) >= max_rows:
        raise TooLarge(
            f"the file has more than {max_rows} rows (limits.max_import_rows)", max_rows=max_rows
        )
    table.rows.append(row)


def read_table(data: bytes, name: str, *, max_rows: int, fmt: str | None = None) -> Table:
    """Read a whole export; refuses files with more than `max_rows` records."""
    fmt = fmt or detect_format(name, data)
    if fmt not in FORMATS:
        raise ValidationFailed(f"unknown format {fmt!r}: use csv, xlsx or jsonl")
    if not data.strip():
        raise ValidationFailed(f"{name or 'the file'} is empty")
    reader = {"csv": read_csv, "xlsx": read_xlsx, "jsonl": read_jsonl}[fmt]
    table = reader(data, max_rows)
    if not table.headers:
        raise ValidationFailed(f"{name or 'the file'} has no header row")
    return table
