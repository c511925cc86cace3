"""Pick the entries a handbook holds, count their reuse, order them and snapshot them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries import service as entries_service
from kbsvc.entries.models import Entry, EntryLink, EntryTag, Tag
from kbsvc.handbooks.models import Selection

# Fields copied into a snapshot: everything a rendered handbook shows.
TEXT_FIELDS = ("title", "symptom", "cause", "solution", "workaround")
META_FIELDS = ("system", "module", "department", "category")
_ANY_SPLIT = re.compile(r"[,，、;；。|]+")
# Control characters are invalid in XML (DOCX) and meaningless in print.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEARCH_POOL = 2000


class EntrySearch(Protocol):
    """The retrieval engine's seam: entry ids for a plain-language query, best first."""

    def __call__(self, query: str, *, limit: int) -> Sequence[int]: ...


def clean_text(value: str | None) -> str:
    """Entry text without control characters and with normalised line ends."""
    return _CONTROL.sub("", (value or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _term(term: str):  # type: ignore[no-untyped-def]
    like = f"%{term}%"
    fields = [getattr(Entry, name).like(like) for name in (*TEXT_FIELDS, "module", "category")]
    tagged = Entry.id.in_(  # type: ignore[union-attr]
        select(EntryTag.entry_id)
        .join(Tag, Tag.id == EntryTag.tag_id)  # type: ignore[arg-type,call-overload]
        .where(Tag.name.like(like))  # type: ignore[attr-defined]
    )
    return or_(*fields, tagged)


def _keyword_filter(query: str):  # type: ignore[no-untyped-def]
    """Fallback without a search engine: "打印 错位、登录" = (打印 AND 错位) OR 登录."""
    topics = [[t for t in part.split() if t] for part in _ANY_SPLIT.split(query)]
    return or_(*(and_(*(_term(t) for t in terms)) for terms in topics if terms))


def reuse_counts(session: Session, entry_ids: Sequence[int]) -> dict[int, int]:
    """Citations plus linked tickets per entry (every EntryLink row counts once)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(EntryLink.entry_id, func.count())  # type: ignore[call-overload]
        .where(EntryLink.entry_id.in_(entry_ids))  # type: ignore[attr-defined]
        .group_by(EntryLink.entry_id)
    )
    return {int(eid): int(n) for eid, n in rows}


def select_entries(
    session: Session,
    selection: Selection,
    search: EntrySearch | None = None,
    *,
    limit: int,
    principal: Principal | None = None,
) -> list[dict[str, Any]]:
    """Snapshots of the matching entries the reader may see, most reused first, then newest."""
    stmt = select(Entry).where(Entry.status == selection.status)  # type: ignore[arg-type]
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
            Entry.id.in_(  # type: ignore[union-attr]
                select(EntryTag.entry_id)
                .join(Tag, Tag.id == EntryTag.tag_id)  # type: ignore[arg-type,call-overload]
                .where(Tag.name == tag)  # type: ignore[arg-type]
            )
        )
    query = selection.query.strip()
    if query and search is not None:
        ids = list(search(query, limit=_SEARCH_POOL))
        stmt = stmt.where(Entry.id.in_(ids))  # type: ignore[union-attr]
    elif query:
        stmt = stmt.where(_keyword_filter(query))
    rows = list(session.execute(stmt).scalars())
    ids = [e.id for e in rows if e.id is not None]
    reuse = reuse_counts(session, ids)
    rows.sort(key=lambda e: (-reuse.get(e.id or 0, 0), -e.updated_at.timestamp(), -(e.id or 0)))
    rows = rows[:limit]
    tags = entries_service.tags_of(session, [e.id for e in rows if e.id is not None])
    return [snapshot(e, reuse.get(e.id or 0, 0), tags.get(e.id or 0, [])) for e in rows]


def snapshot(entry: Entry, reuse: int, tags: list[str]) -> dict[str, Any]:
    """The frozen, JSON-safe form of an entry that editions store and renderers read."""
    data: dict[str, Any] = {"id": entry.id, "version": entry.version, "reuse": reuse}
    for name in (*TEXT_FIELDS, *META_FIELDS):
        data[name] = clean_text(getattr(entry, name))
    data["tags"] = [clean_text(t) for t in tags]
    data["updated_at"] = entry.updated_at.isoformat()
    return data
