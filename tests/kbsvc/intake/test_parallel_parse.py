"""Rows parsed in the import's worker processes: the same rows, errors and duplicates as
parse_table (the one-process parse --strict still uses), batch boundaries and all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.config import PrivacySettings
from kbsvc.entries.models import Entry
from kbsvc.intake import CaptureMode
from kbsvc.intake.mapping import Mapping
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_table, parse_table
from kbsvc.tickets.models import Ticket

PRIVACY = PrivacySettings()


def _lines() -> bytes:
    rows: list[Any] = []
    for i in range(23):
        row: dict[str, Any] = {
            "external_id": f"T-{i % 17}",  # T-0 … T-5 come back: duplicates, some across batches
            "title": f"打印机故障{i}",
            "symptom": f"门诊{i}号打印机不出纸",
            "solution": "重装驱动" if i % 4 else "",
        }
        if i == 3:
            row["opened_at"] = "不是日期"  # invalid: its id is free for a later row
        if i == 5:
            row = {"external_id": "T-5"}  # no content
        if i == 9:
            row["external_id"] = ""  # an id derived from its content
        rows.append(row)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return (text + '{"external_id": "broken\n').encode()  # a bad line at the end


@pytest.mark.parametrize("workers", [1, 2])
def test_the_import_reports_what_parse_table_finds(engine: Engine, workers: int) -> None:
    table = read_table(_lines(), "t.jsonl", max_rows=1000)
    parsed, errors = parse_table(table, Mapping(), source="itsm")
    with Session(engine) as s:
        report = import_table(
            s,
            table,
            source="itsm",
            capture=CaptureMode.published,
            privacy=PRIVACY,
            batch_size=5,
            workers=workers,
        )
        s.commit()
        assert [(e.line, e.message) for e in report.errors] == [(e.line, e.message) for e in errors]
        assert any("duplicate ticket 'T-0'" in e.message for e in report.errors)
        assert report.rows == len(parsed) + len(errors) and report.invalid == len(errors)
        assert report.imported == len(parsed) and report.skipped == len(errors)
        stored = set(s.execute(select(Ticket.external_id)).scalars())
        assert stored == {p.item.resolved_external_id() for p in parsed}
        solved = sum(1 for p in parsed if p.item.solution.strip())
        assert s.execute(select(func.count()).select_from(Entry)).scalar_one() == solved
