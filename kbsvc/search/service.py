"""Suggest and search: query validation, ranking via the engine, hydration from the database."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from sqlmodel import Session

from indexer.analyzer import BIGRAM, display_term
from indexer.fields import Filters
from kbsvc.analytics.searchlog import SearchLogWriter, record_response
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import ServiceUnavailable, ValidationFailed
from kbsvc.search import confidence, hydrate, shorthand
from kbsvc.search.hydrate import HitRow
from kbsvc.search.models import (
    Channel,
    Confidence,
    HitEntry,
    Reason,
    SearchHit,
    SearchResponse,
    SuggestRequest,
    SuggestResponse,
)
from kbsvc.search.snippet import Marker
from kbsvc.vocab import mapping as vocab_mapping

if TYPE_CHECKING:
    from indexer.engine import SearchEngine
    from indexer.retriever import Hit
    from kbsvc.config import SearchSettings


def clean_query(text: str, max_chars: int) -> str:
    """Trimmed query, truncated (not rejected) when long; ValidationFailed when empty."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("query is empty: type a few words describing the problem", field="q")
    return text[:max_chars]


def _bands(
    search_engine: SearchEngine, settings: SearchSettings, query: str, hits: list[Hit]
) -> dict[int, Confidence]:
    # Rated over the list as ranked from its top: margins and agreement are relative to it.
    rated = confidence.bands(search_engine, settings, query, hits)
    return {h.id: b for h, b in zip(hits, rated, strict=True)}


def _hits(
    search_engine: SearchEngine,
    rows: dict[int, HitRow],
    hits: list[Hit],
    query: str,
    banded: dict[int, Confidence],
) -> list[SearchHit]:
    marker = Marker(search_engine.analyzer.query_terms(query), search_engine.analyzer)
    out = []
    for h in hits:
        e = rows.get(h.id)
        if e is None:  # deleted since the index saw it; the next sync drops it
            continue
        reasons = [
            Reason(
                channel=cast(Channel, name),
                score=round(ch.score, 4),
                rank=ch.rank or None,
                terms=h.matched if name == "lexical" else [],
            )
            for name, ch in h.channels.items()
            if ch.score > 0 or ch.rank
        ]
        out.append(
            SearchHit(
                entry=HitEntry(
                    id=h.id,
                    title=e.title,
                    symptom=e.symptom,
                    cause=e.cause,
                    solution=e.solution,
                    workaround=e.workaround,
                    system=e.system,
                    department=e.department,
                    tags=e.tags,
                    status=EntryStatus(e.status).value,
                ),
                score=round(h.score, 4),
                confidence=banded[h.id],
                reasons=reasons,
                snippet=marker.snippet((e.symptom, e.title, e.solution, e.cause)),
                sources=e.sources,
            )
        )
    return out


def _engine_ready(search_engine: SearchEngine, session: Session) -> None:
    if not search_engine.ready:
        raise ServiceUnavailable("the search index is still being built; retry shortly")
    shorthand.refresh(session, search_engine.analyzer)  # site abbreviations edited since


def _visible(session: Session, principal: Principal, hits: list[Hit]) -> list[Hit]:
    # The index holds every entry; what a caller may see is decided here, by auth.policy.
    keep = set(policy.filter_visible(session, principal, [h.id for h in hits]))
    return [h for h in hits if h.id in keep]


COUNT_POOL = 500  # ranked candidates examined to count matches ("500+" past this)


def matching_count(engine: SearchEngine, query: str, hits: list[Hit]) -> int:
    """How many hits contain one of the query's words.

    Character bigrams and the dense channel rank almost every entry against any query, so
    counting every scored entry reported the size of the KB. A hit counts when it matched one
    of the query's words: as a word, or (segmented differently in the entry) through every
    bigram of that word. That is what a person means by "found".
    """
    words = [
        display_term(t) for t in engine.analyzer.query_terms(query) if not t.startswith(BIGRAM)
    ]

    def found(matched: set[str]) -> bool:
        return any(
            w in matched or (len(w) > 2 and all(w[i : i + 2] in matched for i in range(len(w) - 1)))
            for w in words
        )

    return sum(1 for h in hits if found(set(h.matched)))


def suggest(
    session: Session,
    search_engine: SearchEngine,
    req: SuggestRequest,
    *,
    principal: Principal,
    settings: SearchSettings,
    search_log: SearchLogWriter | None,
) -> SuggestResponse:
    """Entries that likely fix the ticket being typed (published, visible to `principal`);
    the answer is queued on `search_log` for the insight reports (None: not a user's question,
    e.g. the operator at the shell)."""
    t0 = time.perf_counter()
    _engine_ready(search_engine, session)
    raw = "\n".join(x for x in (req.title.strip(), req.text.strip()) if x)
    query = clean_query(raw, settings.max_query_chars)
    boost = {"system": req.system.strip(), "department": req.department.strip()}
    ranked = search_engine.search(
        query,
        req.k * 2,
        Filters(status="published"),
        boost=boost,
        dense=True if req.settled else None,
    )
    # Visibility and hydration in one query: the rows the caller may see are the hits.
    rows = hydrate.load(session, [h.id for h in ranked.hits], principal)
    visible = [h for h in ranked.hits if h.id in rows][: req.k]
    data = _hits(
        search_engine, rows, visible, query, _bands(search_engine, settings, query, visible)
    )
    resp = SuggestResponse(
        data=data,
        took_ms=round((time.perf_counter() - t0) * 1000, 2),
        confident=any(h.confidence != "low" for h in data),
        channels=ranked.channels,
        refinable=search_engine.retriever.dense
        and search_engine.retriever.name not in ranked.channels,
    )
    if search_log is not None:
        resp.log_id = _log(
            search_log,
            "suggest",
            f"{req.title} {req.text}".strip(),
            {"system": req.system, "department": req.department},
            resp,
            principal,
        )
    return resp


def _log(
    search_log: SearchLogWriter,
    kind: str,
    query: str,
    filters: dict[str, str | None],
    resp: SuggestResponse | SearchResponse,
    principal: Principal,
) -> str:
    return record_response(
        search_log,
        kind=kind,
        query=query,
        filters=filters,
        hits=resp.data,
        took_ms=resp.took_ms,
        caller=principal.label,
    )


def search(
    session: Session,
    search_engine: SearchEngine,
    *,
    settings: SearchSettings,
    q: str,
    k: int = 10,
    offset: int = 0,
    system: str | None = None,
    department: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    include_unpublished: bool = False,
    principal: Principal,
    search_log: SearchLogWriter | None,
) -> SearchResponse:
    """Ranked, filtered, paginated entries for a query, limited to what `principal` may see;
    a first page is queued on `search_log` (paging through one question is not a new one;
    None: not a user's question, e.g. duplicates shown beside the edit form)."""
    t0 = time.perf_counter()
    _engine_ready(search_engine, session)
    query = clean_query(q, settings.max_query_chars)
    k = max(1, min(k, settings.max_k))
    wanted_status = status or (None if include_unpublished else "published")
    filters = Filters(
        system=vocab_mapping.canonical(session, "system", system or "") or None,
        department=vocab_mapping.canonical(session, "department", department or "") or None,
        tag=tag or None,
        status=wanted_status,
    )
    # Rank a pool big enough to count honestly; hidden entries (drafts, other departments)
    # are dropped before counting, so the number is what this caller can actually open.
    ranked = search_engine.search(query, max(2 * (offset + k), COUNT_POOL), filters)
    visible = _visible(session, principal, ranked.hits)
    banded = _bands(search_engine, settings, query, visible[: offset + k])
    page = visible[offset : offset + k]
    rows = hydrate.load(session, [h.id for h in page])
    data = _hits(search_engine, rows, page, query, banded)
    resp = SearchResponse(
        channels=ranked.channels,
        data=data,
        total=matching_count(search_engine, query, visible),
        took_ms=round((time.perf_counter() - t0) * 1000, 2),
        confident=any(h.confidence != "low" for h in data),
    )
    if search_log is not None and offset == 0:
        filters_used = {"system": system, "department": department, "tag": tag}
        resp.log_id = _log(search_log, "search", q, filters_used, resp, principal)
    return resp
