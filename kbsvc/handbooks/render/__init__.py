"""Handbook renderers: Markdown, HTML, PDF (WeasyPrint) and DOCX (python-docx)."""

from __future__ import annotations

from collections.abc import Callable

# progress(done, total) callbacks let the CLI draw a bar for large handbooks.
Progress = Callable[[int, int], None]
# on_phase("layout" | "write") tells a background job which long step has begun.
Phase = Callable[[str], None]
