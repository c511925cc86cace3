"""PDF export through WeasyPrint: a real CJK font or a clear error, and no network access."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from kbsvc.exceptions import ServiceUnavailable
from kbsvc.handbooks.document import HandbookDoc
from kbsvc.handbooks.render import Phase, Progress
from kbsvc.handbooks.render import html as html_render

if TYPE_CHECKING:
    from weasyprint.urls import URLFetcher

NO_FONT = (
    "未找到中文字体（fontconfig 中没有 :lang=zh 字体），PDF 会显示为方框；"
    "请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）。"
    " / No CJK font found: install fonts-noto-cjk."
)
ASSETS_DIR = Path(str(html_render.ASSETS)).resolve()


class FontMissing(ServiceUnavailable):
    code = "cjk_font_missing"


def _fc_families() -> list[str]:
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    families: list[str] = []
    for line in out.splitlines():
        # One font may list several names ("Noto Sans CJK SC,Noto Sans CJK SC Regular").
        families += [name.strip() for name in line.split(",") if name.strip()]
    return sorted(set(families))


@lru_cache(maxsize=8)
def _cjk_families(_env_key: tuple[str | None, ...]) -> tuple[str, ...]:
    return tuple(_fc_families())


def cjk_fonts(preferred: list[str]) -> list[str]:
    """CJK font families fontconfig has, preferred ones first; FontMissing when there are none."""
    env_key = tuple(os.environ.get(k) for k in ("FONTCONFIG_FILE", "FONTCONFIG_PATH"))
    available = _cjk_families(env_key)
    if not available:
        raise FontMissing(NO_FONT)
    chosen = [f for f in preferred if f in available]
    return chosen or [available[0]]


def font_stack(families: list[str]) -> str:
    """A CSS font-family value (names quoted; quotes in names cannot break out)."""
    return ", ".join('"' + f.replace('"', "").replace("\\", "") + '"' for f in families)


def safe_fetcher() -> URLFetcher:
    """A WeasyPrint fetcher that serves data: URIs and this package's assets, nothing else."""
    from weasyprint.urls import URLFetcher

    class AssetOnlyFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
            parts = urlsplit(url)
            scheme = parts.scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file" and parts.netloc in ("", "localhost"):
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(ASSETS_DIR) and path.is_file():
                    return super().fetch(path.as_uri(), headers)
            self.refused.append(url)
            raise ValueError(f"handbook PDFs may only load data: URIs and package assets: {url}")

    return AssetOnlyFetcher()


def _font_config() -> Any:
    """One FontConfiguration per process: fonts fontconfig found stay loaded between exports."""
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


_FONT_CONFIG: Any = None


def anchor_pages(document: Any) -> dict[str, int]:
    """Anchor id → the page (1-based) it landed on in a laid-out WeasyPrint document."""
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, start=1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


def render(
    doc: HandbookDoc,
    *,
    preferred_fonts: list[str],
    progress: Progress | None = None,
    on_phase: Phase | None = None,
) -> bytes:
    """The handbook as PDF bytes (A4, cover, TOC with page numbers, QR codes).

    The book is laid out once with the TOC's page numbers as invisible placeholders; the TOC
    alone is then set again with the pages each anchor landed on, and its pages replace the
    placeholder ones (same lines, so the same page count).
    """
    fonts = cjk_fonts(preferred_fonts)  # before importing WeasyPrint, which warns without fonts
    from weasyprint import HTML

    sans = [f for f in fonts if "Sans" in f or "Hei" in f]
    body_fonts, head_fonts = font_stack(fonts), font_stack(sans + fonts)
    markup = html_render.render(
        doc, fonts=body_fonts, head_fonts=head_fonts, qr=True, progress=progress, toc_pages={}
    )
    # WeasyPrint logs every CSS property it does not know at WARNING; that is noise here.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    font_config = _font_config()

    def layout(html: str) -> Any:
        return HTML(
            string=html, base_url=ASSETS_DIR.as_uri() + "/", url_fetcher=safe_fetcher()
        ).render(font_config=font_config)

    if on_phase:
        on_phase("layout")
    book = layout(markup)
    pages = anchor_pages(book)
    toc = layout(
        html_render.render(
            doc, fonts=body_fonts, head_fonts=head_fonts, toc_pages=pages, toc_only=True
        )
    )
    start, end = pages["toc"] - 1, pages.get(doc.chapters[0].anchor, len(book.pages) + 1) - 1
    if end - start != len(toc.pages):  # never seen; keep the numbered TOC, not the placeholder
        end = start + min(end - start, len(toc.pages))
    if on_phase:
        on_phase("write")
    return book.copy([*book.pages[:start], *toc.pages, *book.pages[end:]]).write_pdf()
