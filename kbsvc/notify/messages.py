"""Chinese message text per event; channels only change the envelope, never the words."""

from __future__ import annotations

from typing import Any

from kbsvc.notify.models import EventType

# Chat robots cap a message (WeCom markdown 4,096 bytes, Feishu 20 KB): keep lists short.
MAX_LINES = 10
REASONS = {"feedback": "使用者反馈无效", "system_upgraded": "系统升级", "manual": "人工标记"}


def _lines(items: list[str], more: int) -> str:
    text = "\n".join(f"- {i}" for i in items[:MAX_LINES])
    extra = more + max(0, len(items) - MAX_LINES)
    return text + (f"\n- ……另有 {extra} 条" if extra else "")


def render(event: EventType, data: dict[str, Any]) -> dict[str, str]:
    """Title, Markdown body and site-relative link for one event."""
    if event is EventType.entry_submitted:
        return {
            "title": f"待审核：{data['title']}",
            "text": f"{data['actor']} 提交了知识条目《{data['title']}》（#{data['entry_id']}），"
            f"请审核。\n系统：{data.get('system') or '未填写'}",
            "path": f"/entries/{data['entry_id']}",
        }
    if event is EventType.entry_rejected:
        return {
            "title": f"已退回：{data['title']}",
            "text": f"知识条目《{data['title']}》（#{data['entry_id']}）"
            f"被 {data['actor']} 退回修改。\n审核意见：{data['comment']}",
            "path": f"/entries/{data['entry_id']}",
        }
    if event is EventType.flag_opened and "count" in data:  # one notice for a system upgrade
        return {
            "title": f"{data['system']} 升级：{data['count']} 条知识待复核",
            "text": f"{data['comment']}\n" + _lines(data["titles"], data.get("hidden", 0)),
            "path": "/review",
        }
    if event is EventType.flag_opened:
        return {
            "title": f"条目被标记待核查：{data['title']}",
            "text": f"知识条目《{data['title']}》（#{data['entry_id']}）被标记待核查"
            f"（{REASONS.get(data['reason'], data['reason'])}）。"
            f"\n说明：{data.get('comment') or '无'}",
            "path": "/review",
        }
    if event is EventType.review_due:
        return {
            "title": f"{data['count']} 条知识到期待复审",
            "text": f"截至 {data['date']}，共有 {data['count']} 条已发布知识到达复审日期：\n"
            + _lines(data["titles"], data.get("hidden", 0)),
            "path": "/review",
        }
    return {
        "title": f"知识库周报（{data['week']}）",
        "text": f"本周搜索 {data['searches']} 次，其中 {data['gap_searches']} 次未找到可靠答案。\n"
        f"**知识缺口（最常见的未答问题）**\n{_lines(data['gaps'], 0) or '- 无'}\n"
        f"**本周引用最多的条目**\n{_lines(data['top'], 0) or '- 无'}",
        "path": "/reports",
    }
