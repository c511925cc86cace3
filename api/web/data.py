"""What the pages read: search results, filter options, entry extras, tickets to capture."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from indexer.engine import SearchEngine
from kbsvc.analytics.searchlog import SearchLogWriter
from kbsvc.auth.models import Principal
from kbsvc.config import SearchSettings
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, EntryTag, LinkKind, Tag
from kbsvc.search import service as search_service
from kbsvc.tickets.models import Ticket


def filter_options(session: Session) -> dict[str, list[str]]:
    """Systems, departments and the most used tags of published entries."""
    published = col(Entry.status) == EntryStatus.published

    def values(column: Any) -> list[str]:
        rows = session.execute(select(column).where(published, column != "").distinct()).scalars()
        return sorted(rows)

    tag_rows = session.execute(
        select(col(Tag.name), func.count().label("n"))
        .join(EntryTag, col(EntryTag.tag_id) == col(Tag.id))
        .group_by(col(Tag.name))
        .order_by(func.count().desc(), col(Tag.name))
        .limit(200)
    ).all()
    return {
        "systems": values(col(Entry.system)),
        "departments": values(col(Entry.department)),
        "categories": values(col(Entry.category)),
        "tags": [name for name, _n in tag_rows],
    }


def kb_stats(session: Session) -> dict[str, int]:
    """Counts for the search page header."""
    published = session.execute(
        select(func.count()).select_from(Entry).where(col(Entry.status) == EntryStatus.published)
    ).scalar_one()
    tickets = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
    return {"published": int(published), "tickets": int(tickets)}


def search(
    search_engine: SearchEngine,
    session: Session,
    *,
    settings: SearchSettings,
    q: str,
    k: int,
    offset: int,
    principal: Principal,
    search_log: SearchLogWriter,
    system: str | None = None,
    department: str | None = None,
    tag: str | None = None,
) -> dict[str, Any]:
    """Search results in the `/api/v1/search` shape: {data, total, took_ms, confident};
    only entries `principal` may see (auth.policy)."""
    result = search_service.search(
        session,
        search_engine,
        settings=settings,
        q=q,
        k=k,
        offset=offset,
        system=system,
        department=department,
        tag=tag,
        principal=principal,
        search_log=search_log,
    )
    return result.model_dump(mode="json")


def source_tickets(session: Session, entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Source tickets per entry, for result cards."""
    out: dict[int, list[dict[str, str]]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    rows = session.execute(
        select(EntryLink).where(
            col(EntryLink.entry_id).in_(entry_ids),
            col(EntryLink.kind) == LinkKind.source,
        )
    ).scalars()
    for link in rows:
        out[link.entry_id].append({"source": link.source, "external_id": link.external_id})
    return out


def citation_count(session: Session, entry_id: int) -> int:
    """How many tickets cited this entry."""
    return int(
        session.execute(
            select(func.count())
            .select_from(EntryLink)
            .where(
                col(EntryLink.entry_id) == entry_id,
                col(EntryLink.kind) == LinkKind.cited,
            )
        ).scalar_one()
    )
