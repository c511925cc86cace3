"""Assemble a handbook as Markdown; entry text is escaped so it can only ever be text."""

from __future__ import annotations

import re

from kbsvc.handbooks.document import DocEntry, HandbookDoc

# Characters that start inline syntax anywhere (CommonMark lets any ASCII punctuation be escaped).
_INLINE = re.compile(r"([\\`*_\[\]<>&|~!])")
# What makes a link, an image, an autolink, raw HTML or an entity (and the escape character).
_LINKISH = re.compile(r"([\\\[\]<>&])")
# Constructs that only count at the start of a line: headings, lists, quotes, rules, setext.
_LINE_START = re.compile(r"^([#+\-=>])|^(\d{1,9})([.)])")

FIELDS = (
    ("symptom", "故障现象"),
    ("cause", "原因分析"),
    ("solution", "处理方法"),
    ("workaround", "应急处理"),
)


def escape_inline(text: str) -> str:
    """Escape one line so no Markdown or HTML construct survives."""
    return _INLINE.sub(r"\\\1", text)


def escape(text: str) -> str:
    """Escape user text as Markdown: literal characters, line breaks kept as hard breaks."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for raw in block.split("\n"):
            # Leading spaces would make an indented code block; they carry no meaning here.
            line = escape_inline(raw.strip())
            line = _LINE_START.sub(lambda m: ("\\" + m[1]) if m[1] else f"{m[2]}\\{m[3]}", line)
            if line:
                lines.append(line)
        if lines:
            paragraphs.append("\\\n".join(lines))
    return "\n\n".join(paragraphs)


def trainer_markdown(text: str) -> str:
    """A trainer's own Markdown for the .md file: emphasis, lists and headings stay (headings
    below the chapter levels), but link, image and raw-HTML syntax is escaped, because whoever
    opens the file may render it with raw HTML and every link scheme allowed."""
    text = _LINKISH.sub(r"\\\1", text.strip())
    return re.sub(r"^(#{1,3})(?=\s)", "####", text, flags=re.M)


def meta_line(entry: DocEntry) -> str:
    """适用系统 / 引用次数 facts of one entry, escaped."""
    where = " / ".join(p for p in (entry.system, entry.module) if p) or "通用"
    parts = [f"适用系统：{escape_inline(where)}", f"引用次数：{entry.reuse}"]
    if entry.department:
        parts.insert(1, f"报告科室：{escape_inline(entry.department)}")
    return " · ".join(parts)


def changes_markdown(doc: HandbookDoc) -> list[str]:
    """The 本版变更 section that opens every edition from the second one on."""
    if not doc.show_changes or doc.changes is None:
        return []
    out = ["## 本版变更", ""]
    groups = (
        ("新增", doc.changes.added),
        ("更新", doc.changes.updated),
        ("移除", doc.changes.removed),
    )
    for label, items in groups:
        out.append(f"**{label}（{len(items)}）**")
        out.append("")
        for item in items:
            version = ""
            if label == "更新":
                version = f"（v{item.previous_version} → v{item.version}）"
            out.append(f"- {escape_inline(item.title)}{version}")
        if not items:
            out.append("- 无")
        out.append("")
    return out


def render_entry(entry: DocEntry) -> list[str]:
    out = [f"### {entry.number} {escape_inline(entry.title)}", ""]
    for key, label in FIELDS:
        body = getattr(entry, key)
        if body:
            out += [f"**{label}**", "", escape(body), ""]
    out += [meta_line(entry), "", f"在线查看：<{entry.url}>", ""]
    return out


def render(doc: HandbookDoc) -> str:
    """The whole handbook as one CommonMark document."""
    out = [f"# {escape_inline(doc.title)}", ""]
    if doc.subtitle:
        out += [f"**{escape_inline(doc.subtitle)}**", ""]
    out += [
        f"- 版次：{doc.edition_label}",
        f"- 生成时间：{doc.generated_at:%Y-%m-%d %H:%M}",
        f"- 条目数：{doc.entry_count}",
        f"- 编排方式：{doc.grouping_label}",
        "",
    ]
    if doc.intro:
        out += ["## 前言", "", trainer_markdown(doc.intro), ""]
    out += changes_markdown(doc)
    out += ["## 目录", ""]
    for chapter in doc.chapters:
        out.append(f"- {chapter.label} {escape_inline(chapter.title)}")
        out += [f"  - {s.number} {escape_inline(s.title)}" for s in chapter.sections]
    out.append("")
    for chapter in doc.chapters:
        out += [f"# {chapter.label} {escape_inline(chapter.title)}", ""]
        if chapter.note:
            out += [trainer_markdown(chapter.note), ""]
        for section in chapter.sections:
            out += [f"## {section.number} {escape_inline(section.title)}", ""]
            for entry in section.entries:
                out += render_entry(entry)
    return "\n".join(out).rstrip() + "\n"
