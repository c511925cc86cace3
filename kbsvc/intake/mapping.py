"""Column → field mapping: Chinese and English headers recognised, --map and mapping files."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbsvc.exceptions import ValidationFailed

FIELDS = (
    "external_id",
    "title",
    "symptom",
    "description",
    "cause",
    "solution",
    "workaround",
    "system",
    "module",
    "department",
    "category",
    "tags",
    "channel",
    "priority",
    "handler",
    "opened_at",
    "resolved_at",
    "handling_minutes",
)
# Several columns for one of these are joined; for the rest the first non-empty one wins.
JOINED = frozenset({"symptom", "description", "cause", "solution", "workaround"})

ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": (
        "工单号",
        "工单编号",
        "编号",
        "单号",
        "工单id",
        "事件编号",
        "事件单号",
        "服务单号",
        "报修单号",
        "流水号",
        "id",
        "ticket_id",
        "ticketid",
        "number",
        "no",
    ),
    "title": ("标题", "工单标题", "主题", "事件标题", "问题标题", "摘要", "subject", "summary"),
    "symptom": (
        "问题描述",
        "故障现象",
        "问题现象",
        "故障描述",
        "现象",
        "现象描述",
        "症状",
        "报修内容",
        "故障内容",
        "问题",
    ),
    "description": ("描述", "详细描述", "详细信息", "详情", "备注", "补充说明", "说明", "details"),
    "cause": ("原因", "原因分析", "故障原因", "问题原因", "根因", "根本原因", "root_cause"),
    "solution": (
        "处理方法",
        "解决方案",
        "处理过程",
        "故障处理过程",
        "处理结果",
        "解决方法",
        "处理措施",
        "处理方案",
        "解决办法",
        "处理情况",
        "resolution",
        "fix",
    ),
    "workaround": (
        "应急处理",
        "临时处理",
        "临时方案",
        "应急措施",
        "应急方案",
        "规避方法",
        "临时解决方案",
    ),
    "system": (
        "系统",
        "影响对象",
        "所属系统",
        "系统名称",
        "业务系统",
        "应用系统",
        "影响系统",
        "涉及系统",
    ),
    "module": ("模块", "功能模块", "子系统", "所属模块", "功能"),
    "department": (
        "科室",
        "报修科室",
        "部门",
        "报修部门",
        "使用科室",
        "申请科室",
        "所在科室",
        "dept",
    ),
    "category": (
        "分类",
        "类别",
        "问题分类",
        "故障分类",
        "事件分类",
        "类型",
        "故障类型",
        "问题类型",
    ),
    "tags": ("标签", "关键词", "关键字", "keywords", "tag"),
    "channel": ("渠道", "来源", "报修渠道", "报修方式", "来源渠道", "受理方式"),
    "priority": ("优先级", "紧急程度", "紧急度", "级别", "重要程度", "影响程度"),
    "handler": (
        "处理人",
        "处理人员",
        "工程师",
        "负责人",
        "解决人",
        "受理人",
        "处理工程师",
        "assignee",
        "owner",
    ),
    "opened_at": (
        "报修时间",
        "创建时间",
        "提交时间",
        "发生时间",
        "报告时间",
        "开始时间",
        "受理时间",
        "申请时间",
        "created",
        "created_at",
        "opened",
        "reported_at",
    ),
    "resolved_at": (
        "解决时间",
        "完成时间",
        "关闭时间",
        "处理完成时间",
        "结束时间",
        "解决日期",
        "closed",
        "closed_at",
        "resolved",
    ),
    # Working time on the ticket, not resolved − opened: a number is minutes unless the
    # header or the cell says 小时 / h (see hours_header).
    "handling_minutes": (
        "处理时长",
        "处理用时",
        "处理工时",
        "工时",
        "实际工时",
        "耗时",
        "处理耗时",
        "工作时长",
        "handling_time",
        "handling_minutes",
        "work_minutes",
        "time_spent",
    ),
}

_BRACKETS = re.compile(r"[(（\[【].*?[)）\]】]")


def header_key(header: str) -> str:
    """Comparable form of a header: NFKC, lower case, no marks, brackets or spacing."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    text = _BRACKETS.sub("", text)
    text = re.sub(r"[\s*:：#_\-]+", "_", text).strip("_")
    return text


ALIAS_LOOKUP: dict[str, str] = {
    header_key(alias): name for name, aliases in ALIASES.items() for alias in (name, *aliases)
}


def hours_header(header: str) -> bool:
    """True when a column header gives its unit as hours: 工时（小时）, 处理时长(h)."""
    text = unicodedata.normalize("NFKC", str(header)).lower()
    return bool(re.search(r"小时|hours?\b|[(\[]h[)\]]|_h$", text))


def guess_field(header: str) -> str | None:
    """The field a column header names, if it is one we know."""
    return ALIAS_LOOKUP.get(header_key(header))


@dataclass
class Mapping:
    """Explicit column choices (from --map and a mapping file) on top of header recognition."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    date_formats: list[str] = field(default_factory=list)
    source: str | None = None

    def merged(self, other: Mapping) -> Mapping:
        """`other` wins field by field (used for --map over a mapping file)."""
        return Mapping(
            columns={**self.columns, **other.columns},
            defaults={**self.defaults, **other.defaults},
            date_formats=[*other.date_formats, *self.date_formats],
            source=other.source or self.source,
        )

    def bind(self, headers: Sequence[str]) -> BoundMapping:
        """Resolve fields to this file's columns; unknown columns are a clear error."""
        by_key = {header_key(h): h for h in reversed(headers)}
        fields: dict[str, list[str]] = {}
        used: set[str] = set()
        for name, cols in self.columns.items():
            for col in cols:
                header = col if col in headers else by_key.get(header_key(col))
                if header is None:
                    shown = "、".join(str(h) for h in headers[:30])
                    raise ValidationFailed(
                        f"column {col!r} (mapped to {name}) is not in the file; columns: {shown}",
                        column=col,
                        field=name,
                    )
                fields.setdefault(name, []).append(header)
                used.add(header)
        for header in headers:
            guessed = guess_field(header)
            if header in used or guessed is None or guessed in self.columns:
                continue
            fields.setdefault(guessed, []).append(header)
        if not {"title", "symptom", "description", "solution"} & fields.keys():
            shown = "、".join(str(h) for h in headers[:30]) or "(none)"
            raise ValidationFailed(
                "no column for title, symptom, description or solution was recognised; "
                f"name one with --map symptom=COLUMN (columns: {shown})"
            )
        hours = any(hours_header(h) for h in fields.get("handling_minutes", []))
        return BoundMapping(fields=fields, defaults=dict(self.defaults), hours=hours)


@dataclass
class BoundMapping:
    """Fields resolved to the columns of one file."""

    fields: dict[str, list[str]]
    defaults: dict[str, str]
    hours: bool = False  # the handling-time column counts hours, not minutes

    def extract(self, values: dict[str, Any], is_blank: Any) -> dict[str, Any]:
        """Raw field values of a row (text fields with several columns are joined)."""
        out: dict[str, Any] = dict(self.defaults)
        for name, cols in self.fields.items():
            present = [values.get(c) for c in cols if not is_blank(values.get(c))]
            if not present:
                continue
            if name in JOINED and len(present) > 1:
                parts = list(dict.fromkeys(str(v).strip() for v in present))
                out[name] = "\n".join(parts)
            else:
                out[name] = present[0]
        return out


def _check_field(name: str, origin: str) -> str:
    name = name.strip()
    if name not in FIELDS:
        hint = f" (did you mean {guess_field(name)}?)" if guess_field(name) else ""
        raise ValidationFailed(
            f"unknown field {name!r} in {origin}{hint}; fields: {', '.join(FIELDS)}", field=name
        )
    return name


def parse_map_options(options: Iterable[str]) -> Mapping:
    """Mapping from `--map FIELD=COLUMN` options."""
    columns: dict[str, list[str]] = {}
    for option in options:
        name, sep, column = option.partition("=")
        if not sep or not column.strip():
            raise ValidationFailed(f"--map needs FIELD=COLUMN, got {option!r}")
        columns.setdefault(_check_field(name, f"--map {option}"), []).append(column.strip())
    return Mapping(columns=columns)


def load_mapping_file(path: Path) -> Mapping:
    """Mapping from a TOML file: source, date_formats, [columns] and [defaults]."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(f"mapping file {path}: not UTF-8 text") from None
    return parse_mapping_toml(text, origin=str(path))


def parse_mapping_toml(text: str, *, origin: str = "mapping") -> Mapping:
    """Mapping from TOML text (a mapping file's content; webhooks store it as text)."""
    path = origin
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"mapping file {path}: invalid TOML: {exc}") from None
    unknown = set(data) - {"source", "date_formats", "columns", "defaults"}
    if unknown:
        raise ValidationFailed(
            f"mapping file {path}: unknown keys {sorted(unknown)}; "
            "allowed: source, date_formats, [columns], [defaults]"
        )
    columns: dict[str, list[str]] = {}
    for name, value in dict(data.get("columns", {})).items():
        cols = value if isinstance(value, list) else [value]
        if not cols or not all(isinstance(c, str) and c.strip() for c in cols):
            raise ValidationFailed(f"mapping file {path}: columns.{name} must name a column")
        columns[_check_field(name, f"mapping file {path}")] = [c.strip() for c in cols]
    defaults = {
        _check_field(k, f"mapping file {path} [defaults]"): str(v)
        for k, v in dict(data.get("defaults", {})).items()
    }
    formats = data.get("date_formats", [])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise ValidationFailed(f"mapping file {path}: date_formats must be a list of strings")
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source.strip()):
        raise ValidationFailed(f"mapping file {path}: source must be a non-empty string")
    return Mapping(columns=columns, defaults=defaults, date_formats=formats, source=source)
