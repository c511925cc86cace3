"""Import outcome schemas (no tables)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel

from kbsvc.intake import CaptureMode

__all__ = ["CaptureMode", "ImportReport", "RowError"]


class RowError(SQLModel):
    """A row that was not imported: where it starts in the file and why."""

    line: int
    message: str


class ImportReport(SQLModel):
    """Counts of one import run; `skipped` counts rows not written (unchanged or invalid)."""

    format: str = ""
    encoding: str = ""
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    skipped: int = 0
    entries_created: int = 0
    entries_updated: int = 0
    pii_masked: int = 0  # patient identifiers found (masked unless privacy.keep_raw_ticket_text)
    errors: list[RowError] = Field(default_factory=list)
    # False when --strict refused the file because some rows were invalid.
    committed: bool = True

    def summary(self) -> str:
        """The line every import ends with."""
        return f"imported {self.imported}, updated {self.updated}, skipped {self.skipped}"
