"""Pick the entries a handbook holds, count their reuse, order them and snapshot them."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlmodel import Session, col

from indexer.fields import Filters
from indexer.retriever import Ranked
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries import service as entries_service
from kbsvc.entries.models import Entry, EntryLink, EntryTag, Tag
from kbsvc.exceptions import ServiceUnavailable
from kbsvc.handbooks.models import Selection, Shaping

# Fields copied into a snapshot: everything a rendered handbook shows.
TEXT_FIELDS = ("title", "symptom", "cause", "solution", "workaround")
META_FIELDS = ("system", "module", "department", "category")
# Control characters are invalid in XML (DOCX) and meaningless in print.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEARCH_POOL = 2000
# Fused scores of entries on a topic sit within a few fold of the best match; entries sharing
# one common word with the query (配置, 问题) score an order of magnitude lower.
_TOPIC_FLOOR = 0.3


class EntrySearch(Protocol):
    """The search engine's one shape (indexer.engine.SearchEngine), as every consumer uses it."""

    ready: bool

    def search(self, query: str, k: int, filters: Filters | None = None) -> Ranked: ...


def clean_text(value: str | None) -> str:
    """Entry text without control characters and with normalised line ends."""
    return _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def reuse_counts(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """Citations plus linked tickets per entry (every EntryLink row counts once)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(col(EntryLink.entry_id), func.count())
        .where(col(EntryLink.entry_id).in_(entry_ids))
        .group_by(col(EntryLink.entry_id))
    )
    return {int(eid): int(n) for eid, n in rows}


def title_key(title: str) -> str:
    """Two titles that read the same (width, case, spaces, punctuation) give one key."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry once: by id, and by title (the first, most reused, copy of a duplicate)."""
    seen_ids: set[int] = set()
    seen_titles: set[str] = set()
    out = []
    for data in entries:
        key = title_key(data["title"])
        if int(data["id"]) in seen_ids or (key and key in seen_titles):
            continue
        seen_ids.add(int(data["id"]))
        seen_titles.add(key)
        out.append(data)
    return out


def select_entries(
    session: Session,
    selection: Selection,
    *,
    search: EntrySearch,
    principal: Principal,
    limit: int,
    shaping: Shaping | None = None,
) -> list[dict[str, Any]]:
    """Snapshots of the entries the reader may see: the selection's matches (most reused first,
    then newest) less the dropped ones, plus the hand-picked ones; each entry once."""
    shaping = shaping or Shaping()
    matched = _matching(session, selection, search=search, principal=principal)
    excluded = set(shaping.excluded)
    matched = [e for e in matched if e.id not in excluded]
    matched_ids = {e.id for e in matched}
    picked_ids = [i for i in shaping.pinned if i not in excluded and i not in matched_ids]
    picked: list[Entry] = []
    if picked_ids:
        # Picked entries obey the same status and visibility rule as matched ones.
        stmt = select(Entry).where(
            col(Entry.id).in_(picked_ids),
            col(Entry.status) == selection.status,
            policy.visible_filter(principal),
        )
        found = {e.id: e for e in session.execute(stmt).scalars()}
        picked = [found[i] for i in picked_ids if i in found]
    rows = matched + picked
    ids = [e.id for e in rows if e.id is not None]
    reuse = reuse_counts(session, ids)
    rows.sort(key=lambda e: (-reuse.get(e.id or 0, 0), -e.updated_at.timestamp(), -(e.id or 0)))
    # Picked entries are kept whatever the cap: a trainer chose them by name.
    chosen = {e.id for e in picked}
    others = [e.id for e in rows if e.id not in chosen]
    keep = chosen | set(others[: max(0, limit - len(chosen))])
    rows = [e for e in rows if e.id in keep]
    tags = entries_service.tags_of(session, [e.id for e in rows if e.id is not None])
    snaps = [snapshot(e, reuse.get(e.id or 0, 0), tags.get(e.id or 0, [])) for e in rows]
    return dedupe(snaps)


def _matching(
    session: Session, selection: Selection, *, search: EntrySearch, principal: Principal
) -> list[Entry]:
    """Entries the selection's query and facets match that `principal` may see."""
    stmt = select(Entry).where(col(Entry.status) == selection.status)
    # Drafts and other departments' restricted entries never reach an export (auth.policy).
    stmt = stmt.where(policy.visible_filter(principal))
    facets = {
        "system": selection.systems,
        "module": selection.modules,
        "category": selection.categories,
        "department": selection.departments,
    }
    for column, values in facets.items():
        if values:
            stmt = stmt.where(getattr(Entry, column).in_(values))
    for tag in selection.tags:
        stmt = stmt.where(
            col(Entry.id).in_(
                select(col(EntryTag.entry_id))
                .join(Tag, col(Tag.id) == col(EntryTag.tag_id))
                .where(col(Tag.name) == tag)
            )
        )
    query = selection.query.strip()
    if query:
        if not search.ready:
            raise ServiceUnavailable("the search index is still being built; retry shortly")
        # The engine ranks the whole KB; the facets and the visibility rule above still apply.
        ranked = search.search(query, _SEARCH_POOL, Filters(status=selection.status.value))
        floor = ranked.top_score * _TOPIC_FLOOR
        ids = [hit.id for hit in ranked.hits if hit.score > 0 and hit.score >= floor]
        stmt = stmt.where(col(Entry.id).in_(ids))
    return list(session.execute(stmt).scalars())


def snapshot(entry: Entry, reuse: int, tags: list[str]) -> dict[str, Any]:
    """The frozen, JSON-safe form of an entry that editions store and renderers read."""
    data: dict[str, Any] = {"id": entry.id, "version": entry.version, "reuse": reuse}
    for name in (*TEXT_FIELDS, *META_FIELDS):
        data[name] = clean_text(getattr(entry, name))
    data["tags"] = [clean_text(t) for t in tags]
    data["updated_at"] = entry.updated_at.isoformat()
    return data
