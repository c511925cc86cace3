"""A trainer's Markdown (intro, chapter notes) as Word paragraphs: the same markdown-it parse
(js-default: raw HTML off, unsafe links refused) the HTML/PDF path uses, mapped to styles."""

from __future__ import annotations

from typing import Any

from docx.shared import Pt
from docx.text.paragraph import Paragraph

from kbsvc.handbooks.render.html import _markdown

_LIST_STYLES = {"bullet_list_open": "List Bullet", "ordered_list_open": "List Number"}


def _inline(paragraph: Paragraph, children: list[Any], link: Any) -> None:
    bold = italic = code = False
    href = ""
    for tok in children:
        kind = tok.type
        if kind == "strong_open" or kind == "strong_close":
            bold = kind == "strong_open"
        elif kind == "em_open" or kind == "em_close":
            italic = kind == "em_open"
        elif kind == "link_open":
            href = str(tok.attrGet("href") or "")
        elif kind == "link_close":
            href = ""
        elif kind in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
        elif kind in ("text", "code_inline"):
            code = kind == "code_inline"
            if href.startswith(("http://", "https://")):
                link(paragraph, href, tok.content)
                continue
            run = paragraph.add_run(tok.content)
            run.bold, run.italic = bold or None, italic or None
            if code:
                run.font.name = "Consolas"


def add_markdown(document: Any, text: str, link: Any) -> None:
    """Append `text` (Markdown) to the document; headings become bold lines, not Heading
    styles, so a note never enters the table of contents."""
    style = None
    pending: str | None = None  # the style of the paragraph an inline token will open
    for tok in _markdown().parse(text):
        if tok.type in _LIST_STYLES:
            style = _LIST_STYLES[tok.type]
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            style = None
        elif tok.type == "heading_open":
            pending = "heading"
        elif tok.type == "paragraph_open":
            pending = pending or (style or "Normal")
        elif tok.type in ("fence", "code_block"):
            run = document.add_paragraph().add_run(tok.content.rstrip("\n"))
            run.font.name, run.font.size = "Consolas", Pt(9)
        elif tok.type == "inline":
            paragraph = document.add_paragraph(
                style=None if pending in (None, "heading", "Normal") else pending
            )
            _inline(paragraph, tok.children or [], link)
            if pending == "heading":
                for run in paragraph.runs:
                    run.bold = True
            pending = None
