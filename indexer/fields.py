"""What an indexed entry can be filtered by, and a query's filters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocMeta:
    """Filterable fields of an indexed entry."""

    system: str = ""
    department: str = ""
    status: str = "published"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Filters:
    """Search filters; None means any."""

    system: str | None = None
    department: str | None = None
    tag: str | None = None
    status: str | None = "published"
