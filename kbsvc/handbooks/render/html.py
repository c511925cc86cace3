"""Render a handbook as one self-contained, printable HTML page."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import nh3
from jinja2 import Environment, PackageLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from kbsvc.handbooks.document import HandbookDoc
from kbsvc.handbooks.render import Progress
from kbsvc.handbooks.render import markdown as md_render

ASSETS = resources.files("kbsvc.handbooks") / "assets"
# What escaped Markdown can legitimately produce; anything else is dropped by the sanitizer.
_TAGS = {"p", "br", "strong", "em", "code", "ul", "ol", "li", "a"}
_ATTRS: dict[str, set[str]] = {"a": {"href"}}
DEFAULT_FONTS = '"Noto Serif CJK SC", "Noto Sans CJK SC", "Source Han Sans SC", serif'
DEFAULT_HEAD_FONTS = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif'


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # js-default: raw HTML off, link validation on (no javascript:/vbscript:/file: links).
    return MarkdownIt("js-default")


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("kbsvc.handbooks", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["text"] = text_html
    return env


def sanitize(html: str) -> str:
    """Keep only the inert tags escaped Markdown produces; links only to http(s)."""
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRS,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )


def text_html(text: str | None) -> Markup:
    """User text → escaped Markdown → markdown-it → sanitized HTML fragment."""
    if not text:
        return Markup("")
    return Markup(sanitize(_markdown().render(md_render.escape(text))))


def stylesheet() -> str:
    return (ASSETS / "handbook.css").read_text(encoding="utf-8")


def render(
    doc: HandbookDoc,
    *,
    fonts: str = DEFAULT_FONTS,
    head_fonts: str = DEFAULT_HEAD_FONTS,
    qr: bool = False,
    progress: Progress | None = None,
) -> str:
    """The complete HTML document (CSS inlined); QR codes only for print."""
    qr_codes: dict[int, str] = {}
    entries = doc.entries
    if qr:
        from kbsvc.handbooks.render.qr import qr_data_uri

        for i, entry in enumerate(entries, start=1):
            qr_codes[entry.id] = qr_data_uri(entry.url)
            if progress:
                progress(i, len(entries))
    context: dict[str, Any] = {
        "doc": doc,
        "css": Markup(
            stylesheet().replace("/*FONTS*/", fonts).replace("/*HEADFONTS*/", head_fonts)
        ),
        "fields": md_render.FIELDS,
        "qr_codes": qr_codes,
    }
    return _env().get_template("handbook.html.j2").render(**context)
