"""The site's shorthand: shipped abbreviations plus the vocabulary's, and its term pinyin."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlmodel import Session, col

from indexer.shorthand import Shorthand, dictionary_terms, shipped_table
from kbsvc.vocab.models import VocabKind, VocabTerm

if TYPE_CHECKING:
    from indexer.analyzer import Analyzer

CHECK_EVERY_S = 5.0  # how stale another worker's view of a vocabulary edit may be

_lock = threading.Lock()
_seen: dict[int, tuple[float, tuple[object, ...]]] = {}  # id(analyzer) → (checked at, version)


def load_shorthand(session: Session) -> Shorthand:
    """Shipped table overridden per key by vocabulary abbreviations; pinyin of systems and
    modules (value and aliases) on top of the shipped dictionary's."""
    table = shipped_table()
    site: dict[str, list[str]] = {}
    terms = dictionary_terms()
    for t in session.execute(select(VocabTerm)).scalars():
        if t.kind == VocabKind.abbreviation:
            for alias in t.aliases:
                site.setdefault(alias.lower(), []).append(t.value)
        elif t.kind in (VocabKind.system, VocabKind.module):
            terms += [t.value, *t.aliases]
    table.update(site)  # a site's meaning of a key replaces the shipped one
    return Shorthand(table, terms)


def _version(session: Session) -> tuple[object, ...]:
    row = session.execute(
        select(
            func.count(col(VocabTerm.id)),
            func.max(col(VocabTerm.updated_at)),
            func.sum(col(VocabTerm.id)),
        )
    ).one()
    return tuple(row)


def refresh(session: Session, analyzer: Analyzer, *, force: bool = False) -> bool:
    """Reload the analyzer's shorthand when the vocabulary changed; True when it did.

    Checked at most every CHECK_EVERY_S per process, so every API worker picks up an
    admin's edit within seconds at the cost of one small aggregate query.
    """
    key = id(analyzer)
    now = time.monotonic()
    with _lock:
        seen = _seen.get(key)
        if not force and seen is not None and now - seen[0] < CHECK_EVERY_S:
            return False
        version = _version(session)
        _seen[key] = (now, version)
        if not force and seen is not None and seen[1] == version:
            return False
    analyzer.shorthand = load_shorthand(session)
    return True
