"""Recognised column headers: the ticket fields and their Chinese and English aliases."""

from __future__ import annotations

import re
import unicodedata

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
