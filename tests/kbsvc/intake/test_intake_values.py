"""Cell values: dates in the formats helpdesk exports use, priorities, headers, mappings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from kbsvc.exceptions import ValidationFailed
from kbsvc.intake.headers import guess_field
from kbsvc.intake.mapping import Mapping, load_mapping_file, parse_map_options
from kbsvc.intake.values import cell_text, normalise_priority, parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14 08:21", datetime(2025, 3, 14, 8, 21)),
        ("2025-03-14 08:21:33", datetime(2025, 3, 14, 8, 21, 33)),
        ("2025/3/14 8:21", datetime(2025, 3, 14, 8, 21)),
        ("2025.3.14", datetime(2025, 3, 14)),
        ("2025年3月14日", datetime(2025, 3, 14)),
        ("2025年3月14日 8时21分", datetime(2025, 3, 14, 8, 21)),
        ("2025-03-14T08:21:00", datetime(2025, 3, 14, 8, 21)),
        ("20250314", datetime(2025, 3, 14)),
        ("2025/3/14 下午3:05", datetime(2025, 3, 14, 15, 5)),
        (45730.5, datetime(2025, 3, 14, 12, 0)),
        ("45730.5", datetime(2025, 3, 14, 12, 0)),
        (datetime(2025, 1, 2, 3, 4), datetime(2025, 1, 2, 3, 4)),
    ],
)
def test_dates(text: object, expected: datetime) -> None:
    assert parse_datetime(text) == expected


def test_date_with_offset_and_blanks() -> None:
    assert parse_datetime("2025-03-14T08:21:00+08:00").utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
    for blank in (None, "", "  ", "-", "无", "N/A"):
        assert parse_datetime(blank) is None


@pytest.mark.parametrize("junk", ["昨天下午", "2025-13-45 08:00", "2025-02-30", "12", "abc"])
def test_junk_dates_raise(junk: str) -> None:
    with pytest.raises(ValueError, match="not a recognised date"):
        parse_datetime(junk)


def test_extra_formats() -> None:
    assert parse_datetime("14/03/2025 08:21", ["%d/%m/%Y %H:%M"]) == datetime(2025, 3, 14, 8, 21)


def test_priority_and_cells() -> None:
    assert [normalise_priority(v) for v in ("特急", "P2", "一般", "Low", "高优先级", "")] == [
        "紧急",
        "高",
        "中",
        "低",
        "高",
        "",
    ]
    assert normalise_priority("需当天处理") == "需当天处理"
    assert cell_text(20250001.0) == "20250001"
    assert cell_text(" a\r\nb ") == "a\nb"
    assert cell_text("N/A") == ""


def test_headers_recognised() -> None:
    assert guess_field("工单号") == "external_id"
    assert guess_field("故障处理过程") == "solution"
    assert guess_field("报修时间（必填）") == "opened_at"
    assert guess_field("紧急程度*") == "priority"
    assert guess_field("Resolved At") == "resolved_at"
    assert guess_field("影响对象") == "system"
    assert guess_field("随便一列") is None


def test_map_options_and_errors() -> None:
    mapping = parse_map_options(["symptom=故障", "solution=处理A", "solution=处理B"])
    assert mapping.columns == {"symptom": ["故障"], "solution": ["处理A", "处理B"]}
    with pytest.raises(ValidationFailed, match="unknown field 'sympton'"):
        parse_map_options(["sympton=故障"])
    with pytest.raises(ValidationFailed, match="did you mean symptom"):
        parse_map_options(["故障现象=x"])
    with pytest.raises(ValidationFailed, match="FIELD=COLUMN"):
        parse_map_options(["symptom"])
    with pytest.raises(ValidationFailed, match=r"'缺失列' \(mapped to symptom\) is not in"):
        parse_map_options(["symptom=缺失列"]).bind(["标题"])


def test_bind_prefers_explicit_columns_and_joins_text() -> None:
    bound = Mapping(columns={"symptom": ["现象A"]}).bind(
        ["问题描述", "现象A", "处理过程", "处理结果"]
    )
    assert bound.fields["symptom"] == ["现象A"]
    assert "问题描述" not in sum(bound.fields.values(), [])
    row = {"现象A": "x", "处理过程": "重启服务", "处理结果": "已恢复"}
    assert bound.extract(row, lambda v: not v)["solution"] == "重启服务\n已恢复"
    with pytest.raises(ValidationFailed, match="no column for title, symptom"):
        Mapping().bind(["甲", "乙"])


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "itsm.toml"
    path.write_text(
        'source = "itsm"\ndate_formats = ["%d/%m/%Y"]\n[columns]\n'
        'symptom = ["现象", "补充"]\n[defaults]\nsystem = "HIS"\n',
        encoding="utf-8",
    )
    mapping = load_mapping_file(path)
    assert (mapping.source, mapping.columns, mapping.defaults, mapping.date_formats) == (
        "itsm",
        {"symptom": ["现象", "补充"]},
        {"system": "HIS"},
        ["%d/%m/%Y"],
    )
    path.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="invalid TOML"):
        load_mapping_file(path)
    path.write_text('[colums]\nsymptom = "x"\n', encoding="utf-8")
    with pytest.raises(ValidationFailed, match="unknown keys"):
        load_mapping_file(path)
    path.write_text('[columns]\nsympton = "x"\n', encoding="utf-8")
    with pytest.raises(ValidationFailed, match="unknown field"):
        load_mapping_file(path)
