"""What the pages read: search results, filter options, entry extras, tickets to capture."""

from __future__ import annotations

import html
import math
import time
from typing import Any

from fastapi import Request
from sqlalchemy import func, select
from sqlmodel import Session

from kbsvc.auth.models import Principal
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, EntryTag, LinkKind, Tag
from kbsvc.tickets.models import Ticket


def filter_options(session: Session) -> dict[str, list[str]]:
    """Systems, departments and the most used tags of published entries."""
    published = Entry.status == EntryStatus.published  # type: ignore[arg-type]

    def values(column: Any) -> list[str]:
        rows = session.execute(select(column).where(published, column != "").distinct()).scalars()
        return sorted(rows)

    tag_rows = session.execute(
        select(Tag.name, func.count().label("n"))
        .join(EntryTag, EntryTag.tag_id == Tag.id)  # type: ignore[arg-type]
        .group_by(Tag.name)
        .order_by(func.count().desc(), Tag.name)
        .limit(200)
    ).all()
    return {
        "systems": values(Entry.system),
        "departments": values(Entry.department),
        "tags": [name for name, _n in tag_rows],
    }


def kb_stats(session: Session) -> dict[str, int]:
    """Counts for the search page header."""
    published = session.execute(
        select(func.count()).select_from(Entry).where(Entry.status == EntryStatus.published)  # type: ignore[arg-type]
    ).scalar_one()
    tickets = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
    return {"published": int(published), "tickets": int(tickets)}


def search(
    request: Request,
    session: Session,
    *,
    q: str,
    k: int,
    offset: int,
    principal: Principal | None = None,
    **filters: str | None,
) -> dict[str, Any]:
    """Search results in the `/api/v1/search` shape: {data, total, took_ms, confident};
    only entries `principal` may see (auth.policy)."""
    engine = getattr(request.app.state, "search", None)
    if engine is None:
        return _fallback_search(session, q=q, k=k, offset=offset, principal=principal, **filters)
    from kbsvc.search import service as search_service

    result = search_service.search(
        session,
        engine,
        settings=request.app.state.settings.search,
        q=q,
        k=k,
        offset=offset,
        principal=principal,
        **filters,
    )
    return result.model_dump(mode="json")


def _fallback_search(
    session: Session,
    *,
    q: str,
    k: int,
    offset: int,
    principal: Principal | None = None,
    **filters: str | None,
) -> dict[str, Any]:
    # Token-overlap ranking used until the retrieval engine is available.
    from indexer.tokenizer import default_tokenizer

    start = time.perf_counter()
    tok = default_tokenizer()
    terms = set(tok.tokens(q))
    listing = entries.list_entries(
        session,
        status=EntryStatus.published,
        limit=10_000,
        principal=principal,
        **{k_: v for k_, v in filters.items() if v},
    )
    docs = [
        (e, set(tok.tokens(" ".join([e.title, e.symptom, e.cause, e.solution]))))
        for e in listing.data
    ]
    df: dict[str, int] = {}
    for _e, toks in docs:
        for t in toks & terms:
            df[t] = df.get(t, 0) + 1
    n = max(len(docs), 1)
    scored = []
    for entry, toks in docs:
        hits = toks & terms
        score = sum(math.log(1 + n / df[t]) for t in hits)
        if score > 0:
            scored.append((score, entry, hits))
    scored.sort(key=lambda s: (-s[0], s[1].id))
    top = max((s[0] for s in scored), default=0.0)
    items = []
    for score, entry, hits in scored[offset : offset + k]:
        rel = score / top if top else 0.0
        band = "high" if rel > 0.8 and len(hits) >= 2 else "medium" if rel > 0.5 else "low"
        items.append(
            {
                "entry": entry.model_dump(mode="json"),
                "score": round(rel, 3),
                "confidence": band,
                "reasons": [f"关键词：{'、'.join(sorted(hits))}"],
                "snippet": _mark(entry.symptom or entry.title, hits),
                "sources": [],
            }
        )
    confident = any(i["confidence"] == "high" for i in items)
    took = (time.perf_counter() - start) * 1000
    return {"data": items, "total": len(scored), "took_ms": round(took, 1), "confident": confident}


def _mark(text: str, terms: set[str]) -> str:
    out = html.escape(text[:160])
    for term in sorted(terms, key=len, reverse=True):
        esc = html.escape(term)
        if esc and esc.lower() in out.lower():
            i = out.lower().index(esc.lower())
            out = out[:i] + "<mark>" + out[i : i + len(esc)] + "</mark>" + out[i + len(esc) :]
    return out


def visible_entry(session: Session, entry_id: int, principal: Principal) -> Entry:
    """The entry if this caller may see it (drafts, department restrictions), else NotFound."""
    entry = entries.get(session, entry_id=entry_id)
    try:
        from kbsvc.auth import policy
    except ImportError:  # pragma: no cover - before visibility rules are installed
        return entry
    return policy.ensure_visible(session, principal, entry)


def source_tickets(session: Session, entry_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Source tickets per entry, for result cards."""
    out: dict[int, list[dict[str, str]]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    rows = session.execute(
        select(EntryLink).where(
            EntryLink.entry_id.in_(entry_ids),  # type: ignore[attr-defined]
            EntryLink.kind == LinkKind.source,  # type: ignore[arg-type]
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
                EntryLink.entry_id == entry_id,  # type: ignore[arg-type]
                EntryLink.kind == LinkKind.cited,  # type: ignore[arg-type]
            )
        ).scalar_one()
    )


def versions(session: Session, entry_id: int) -> list[dict[str, Any]]:
    """Stored versions of an entry, newest first (empty where versioning is not installed)."""
    try:
        from kbsvc.entries.versions import list_versions
    except ImportError:  # pragma: no cover - before the lifecycle domain is installed
        return []
    notes = {"created": "创建", "edited": "修改", "captured": "从工单采编"}
    return [
        {
            "version": v.version,
            "by": v.author,
            "at": v.created_at.strftime("%Y-%m-%d %H:%M"),
            "note": notes.get(v.note, v.note),
        }
        for v in list_versions(session, entry_id=entry_id).data
    ]
