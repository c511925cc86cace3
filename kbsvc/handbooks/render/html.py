"""Render a handbook as one self-contained, printable HTML page."""

from __future__ import annotations

import base64
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
from kbsvc.timeutil import utcnow

ASSETS = resources.files("kbsvc.handbooks") / "assets"
# What escaped Markdown can legitimately produce; anything else is dropped by the sanitizer.
_TAGS = {"p", "br", "strong", "em", "code", "ul", "ol", "li", "a"}
# A trainer's Markdown (intro, chapter notes) may also structure its text.
_NOTE_TAGS = _TAGS | {"h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr", "s"}
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
    env.filters["md"] = markdown_html
    env.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return env


def sanitize(html: str, tags: set[str] = _TAGS) -> str:
    """Keep only inert tags (by default those escaped Markdown produces); links only to http(s)."""
    return nh3.clean(
        html,
        tags=tags,
        attributes=_ATTRS,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )


def markdown_html(text: str | None) -> Markup:
    """A trainer's Markdown (intro, chapter notes) → markdown-it (js-default) → sanitized HTML."""
    if not text or not text.strip():
        return Markup("")
    return Markup(sanitize(_markdown().render(text), _NOTE_TAGS))


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
    toc_pages: dict[str, int] | None = None,
    toc_only: bool = False,
) -> str:
    """The complete HTML document (CSS inlined); QR codes and TOC page numbers only for print
    (`toc_pages`: anchor → page, {} for placeholders; `toc_only`: just the TOC pages)."""
    qr_codes: dict[int, str] = {}
    entries = doc.entries
    if qr and not toc_only:
        from kbsvc.handbooks.render.qr import qr_data_uri

        # One QR code per entry URL; the base URL is the configured public one (see export).
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
        "now": utcnow(),
        "toc_pages": toc_pages,
        "toc_only": toc_only,
    }
    return _env().get_template("handbook.html.j2").render(**context)
