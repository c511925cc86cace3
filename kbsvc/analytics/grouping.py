"""Report labels through the vocabularies: stored spellings → one canonical name, and back.

Tickets are stored in the vocabulary's spelling when it knew the value at import; rows from
before (or a vocabulary edited since) still hold 心血管内科 next to 心内科. Reports group on
read, so a cell, bar or row always means one canonical name, and a drill-down turns that name
back into every stored spelling it covers.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import false, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from kbsvc.analytics import schemas as s
from kbsvc.vocab import mapping as vocab_mapping
from kbsvc.vocab.models import VocabKind, VocabTerm

EMPTY = {"department": s.NO_DEPARTMENT, "system": s.NO_SYSTEM, "category": s.NO_CATEGORY}
# A category term whose parent (上级) is this is not a fault: 咨询, 需求, 账号申请 …
NON_FAULT = "非故障"


class Labels:
    """Canonical report labels for one session (cached per stored value)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, str | None], str] = {}

    def __call__(self, kind: str, value: str | None) -> str:
        key = (kind, value)
        if key not in self._cache:
            text = (value or "").strip()
            self._cache[key] = (
                vocab_mapping.canonical(self.session, kind, text) if text else EMPTY[kind]
            )
        return self._cache[key]

    def stored(self, kind: str, column: ColumnElement[str], labels: Iterable[str]) -> list[str]:
        """Every stored spelling in `column` whose label is one of `labels`."""
        wanted = set(labels)
        values = self.session.execute(select(column).distinct()).scalars()
        return [v for v in values if v is not None and self(kind, v) in wanted]

    def condition(
        self, kind: str, column: ColumnElement[str], labels: Iterable[str]
    ) -> ColumnElement[bool]:
        """SQL condition: `column` holds a spelling of one of `labels` (empty included)."""
        wanted = set(labels)
        stored = self.stored(kind, column, wanted)
        parts: list[ColumnElement[bool]] = [column.in_(stored)] if stored else []
        if EMPTY[kind] in wanted:
            parts.append(column.is_(None))
        return or_(false(), *parts)

    def non_fault_categories(self) -> set[str]:
        """Canonical categories the vocabulary marks as not a fault (parent 非故障)."""
        rows = self.session.execute(
            select(col(VocabTerm.value)).where(
                col(VocabTerm.kind) == VocabKind.category.value,
                col(VocabTerm.parent) == NON_FAULT,
            )
        ).scalars()
        return set(rows)
