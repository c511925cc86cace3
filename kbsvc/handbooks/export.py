"""One entry point for every export format, file naming and a bound on concurrent heavy exports."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from kbsvc.config import Settings
from kbsvc.exceptions import RateLimited
from kbsvc.handbooks.document import HandbookDoc
from kbsvc.handbooks.models import ExportFormat
from kbsvc.handbooks.render import Phase, Progress

MEDIA_TYPES = {
    ExportFormat.pdf: "application/pdf",
    ExportFormat.docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ExportFormat.html: "text/html; charset=utf-8",
    ExportFormat.md: "text/markdown; charset=utf-8",
}
HEAVY = {ExportFormat.pdf, ExportFormat.docx}
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def render(
    doc: HandbookDoc,
    fmt: ExportFormat,
    settings: Settings,
    progress: Progress | None = None,
    on_phase: Phase | None = None,
) -> bytes:
    """The handbook in `fmt` as bytes (imports each renderer only when it is used)."""
    if fmt is ExportFormat.md:
        from kbsvc.handbooks.render import markdown

        return markdown.render(doc).encode("utf-8")
    if fmt is ExportFormat.html:
        from kbsvc.handbooks.render import html

        return html.render(doc).encode("utf-8")
    if fmt is ExportFormat.pdf:
        from kbsvc.handbooks.render import pdf

        return pdf.render(
            doc,
            preferred_fonts=settings.handbooks.pdf_fonts,
            progress=progress,
            on_phase=on_phase,
        )
    from kbsvc.handbooks.render import docx

    if on_phase:
        on_phase("layout")
    return docx.render(doc, cfg=settings.handbooks, progress=progress)


def link_warning(base_url: str) -> str:
    """A Chinese warning when printed links and QR codes would point at this machine only."""
    host = (urlsplit(base_url).hostname or "").lower()
    try:
        loopback = ipaddress.ip_address(host).is_loopback or host in ("0.0.0.0", "::")
    except ValueError:
        loopback = host == "localhost" or host.endswith(".localhost") or not host
    if not loopback:
        return ""
    return (
        f"手册中的链接和二维码将指向 {base_url}，只有本机能打开；"
        "请把 KBSVC_PUBLIC_BASE_URL 设为院内电脑可访问的地址（如 http://kb.hospital.local）后再导出。"
    )


def filename(doc: HandbookDoc, fmt: ExportFormat) -> str:
    """A file name from the title (and edition), safe on every file system."""
    stem = _UNSAFE_NAME.sub("_", doc.title).strip(" ._") or "handbook"
    if doc.edition:
        stem += f"-第{doc.edition}版"
    return f"{stem[:120]}.{fmt.value}"


class ExportLimiter:
    """At most N PDF/DOCX renderings at once; callers beyond that are told to retry."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    @contextmanager
    def wait(self) -> Iterator[None]:
        """A slot for a background job: it queues rather than being refused."""
        with self._slots:
            yield

    @contextmanager
    def slot(self, fmt: ExportFormat) -> Iterator[None]:
        if fmt not in HEAVY:
            yield
            return
        if not self._slots.acquire(blocking=False):
            raise RateLimited(
                f"导出任务繁忙（同时最多 {self.limit} 个 PDF/DOCX 导出），请稍后重试。"
                f" / Too many concurrent exports (limit {self.limit}); retry shortly.",
                retry_after=5,
                limit=self.limit,
            )
        try:
            yield
        finally:
            self._slots.release()
