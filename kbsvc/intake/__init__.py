"""Ticket intake from helpdesk exports (CSV, XLSX, JSONL)."""

from enum import StrEnum


class CaptureMode(StrEnum):
    """Whether an import also captures a knowledge entry per solved ticket, and as what."""

    none = "none"
    draft = "draft"
    published = "published"
