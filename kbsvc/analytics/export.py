"""Reports flattened into named tables, written as CSV (UTF-8 BOM, for Excel) or XLSX."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from kbsvc.analytics import schemas as s
from kbsvc.exceptions import ValidationFailed

# Control characters are invalid in XLSX's XML (and noise in a CSV); a cell starting with one
# of these is run as a formula by Excel (CSV/formula injection from ticket text).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet shows as plain text: controls removed, formulas quoted."""
    if not isinstance(value, str):
        return value
    value = _CONTROL.sub("", value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _safe_rows(table: Table) -> list[list[Any]]:
    return [[safe_cell(v) for v in row] for row in [table.headers, *table.rows]]


@dataclass
class Table:
    name: str  # ASCII key for ?table=
    title: str  # sheet name / heading
    headers: list[str]
    rows: list[list[Any]]


def _pct(v: float | None) -> float | None:
    return None if v is None else round(v * 100, 1)


def demand_tables(r: s.DemandReport) -> list[Table]:
    m = r.matrix
    unit = "工时" if r.effort_basis == "handling" else "解决用时"
    matrix = [[d, *row, sum(row)] for d, row in zip(m.departments, m.counts, strict=True)]
    return [
        Table("matrix", "科室×系统", ["科室", *m.systems, "合计"], matrix),
        Table("by_month", "按月趋势", ["月份", "工单数"], [[x.month, x.count] for x in r.by_month]),
        Table(
            "by_category", "按类别", ["类别", "工单数"], [[x.name, x.count] for x in r.by_category]
        ),
        Table(
            "effort",
            "处理工时" if r.effort_basis == "handling" else "解决用时(自然时间)",
            ["系统", "工单", f"总{unit}(小时)", f"中位{unit}(小时)"],
            [[x.system, x.tickets, x.total_hours, x.median_hours] for x in r.effort],
        ),
    ]


def reuse_tables(r: s.ReuseReport) -> list[Table]:
    tables = [
        Table(
            "by_month",
            "关联率趋势",
            ["月份", "已解决工单", "关联知识", "关联率(%)", "新建知识", "复用知识"],
            [
                [x.month, x.resolved, x.linked, _pct(x.link_rate), x.new, x.known]
                for x in r.by_month
            ],
        ),
        Table(
            "top_entries",
            "高复用知识",
            ["知识ID", "标题", "系统", "状态", "引用次数", "关联工单"],
            [
                [x.entry_id, x.title, x.system, x.status, x.citations, x.linked_tickets]
                for x in r.top_entries
            ],
        ),
        Table(
            "never_reused",
            "从未复用",
            ["知识ID", "标题", "系统", "创建时间"],
            [
                [x.entry_id, x.title, x.system, x.created_at.isoformat() if x.created_at else ""]
                for x in r.never_reused
            ],
        ),
    ]
    if r.feedback is not None:
        f = r.feedback
        tables.append(
            Table(
                "feedback",
                "反馈",
                ["有帮助", "无帮助", "有帮助占比(%)"],
                [[f.helpful, f.not_helpful, _pct(f.ratio)]],
            )
        )
    return tables


def gaps_tables(r: s.GapsReport) -> list[Table]:
    return [
        Table(
            "search_topics",
            "未解答搜索",
            ["主题", "关键词", "搜索次数", "相关查询"],
            [
                [c.label, " ".join(c.terms), c.searches, "；".join(c.queries)]
                for c in r.search_topics
            ],
        ),
        Table(
            "ticket_topics",
            "待沉淀工单",
            ["主题", "关键词", "系统", "工单数", "工单号", "最佳相似度"],
            [
                [
                    c.label,
                    " ".join(c.terms),
                    c.system,
                    len(c.ticket_numbers),
                    ",".join(c.ticket_numbers),
                    c.best_similarity,
                ]
                for c in r.ticket_topics
            ],
        ),
        Table(
            "systems",
            "系统知识覆盖",
            ["系统", "工单数", "已发布知识", "工单/知识"],
            [[c.system, c.tickets, c.entries, c.tickets_per_entry] for c in r.systems],
        ),
    ]


def health_tables(r: s.HealthReport) -> list[Table]:
    names = {"draft": "草稿", "in_review": "待审核", "published": "已发布", "archived": "已归档"}
    return [
        Table(
            "by_status",
            "知识状态",
            ["状态", "条目数"],
            [[names.get(k, k), v] for k, v in r.by_status.items()],
        ),
        Table(
            "overdue",
            "复审逾期",
            ["知识ID", "标题", "系统", "复审到期"],
            [
                [x.entry_id, x.title, x.system, x.created_at.isoformat() if x.created_at else ""]
                for x in r.overdue
            ],
        ),
        Table(
            "flagged",
            "被标记",
            ["知识ID", "标题", "系统"],
            [[x.entry_id, x.title, x.system] for x in r.flagged],
        ),
    ]


def drill_tables(r: s.DrillDown) -> list[Table]:
    def when(v: Any) -> str:
        return v.isoformat(sep=" ", timespec="minutes") if v else ""

    return [
        Table(
            "tickets",
            "工单明细",
            [
                "工单号",
                "来源",
                "标题",
                "科室",
                "系统",
                "类别",
                "报修时间",
                "解决时间",
                "处理时长(分钟)",
                "解决用时(小时)",
                "关联知识",
            ],
            [
                [
                    t.external_id,
                    t.source,
                    t.title,
                    t.department,
                    t.system,
                    t.category,
                    when(t.opened_at),
                    when(t.resolved_at),
                    t.handling_minutes,
                    t.elapsed_hours,
                    "；".join(f"#{e.entry_id} {e.title}" for e in t.entries),
                ]
                for t in r.data
            ],
        )
    ]


def tables_for(report: BaseModel) -> list[Table]:
    """The export tables of any report."""
    makers: list[tuple[type[BaseModel], Callable[[Any], list[Table]]]] = [
        (s.DemandReport, demand_tables),
        (s.ReuseReport, reuse_tables),
        (s.GapsReport, gaps_tables),
        (s.HealthReport, health_tables),
        (s.DrillDown, drill_tables),
    ]
    for cls, fn in makers:
        if isinstance(report, cls):
            return fn(report)
    raise TypeError(f"not a report: {type(report).__name__}")


def pick(tables: list[Table], name: str | None) -> Table:
    """One table by key (the first by default)."""
    if not name:
        return tables[0]
    for t in tables:
        if t.name == name:
            return t
    raise ValidationFailed(
        f"没有名为 {name!r} 的表（table），可选：" + ", ".join(t.name for t in tables),
        field="table",
    )


def to_csv(table: Table) -> bytes:
    """CSV with a UTF-8 BOM so Excel on Chinese Windows shows the headers correctly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows(["" if v is None else v for v in row] for row in _safe_rows(table))
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(tables: list[Table]) -> bytes:
    """One sheet per table, bold frozen header, widths fitted to content."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    wb = Workbook()
    wb.remove(wb.active)
    for t in tables:
        ws = wb.create_sheet(title=t.title[:31])
        for row in _safe_rows(t):
            ws.append(row)
        for cell in ws[1]:
            cell.font = Font(bold=True, color="FFFFFF")
            cell.fill = PatternFill("solid", fgColor="1F4E79")
        ws.freeze_panes = "A2"
        for i, header in enumerate(t.headers, start=1):
            width = max([len(str(header))] + [len(str(r[i - 1] or "")) for r in t.rows[:200]])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, 4 + width * 1.6)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
