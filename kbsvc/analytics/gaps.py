"""Knowledge gaps: unanswered searches, uncovered tickets, systems with few entries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from kbsvc.analytics import schemas as s
from kbsvc.analytics import textsim
from kbsvc.analytics.grouping import Labels
from kbsvc.analytics.models import SearchLog
from kbsvc.analytics.reports import E, L, T, _period_out, ticket_time
from kbsvc.analytics.sqlfn import Period
from kbsvc.config import AnalyticsSettings
from kbsvc.db import table_of
from kbsvc.entries.models import Entry, EntryStatus

S = table_of(SearchLog).c

# Caps keep the report interactive on large sites: the pairwise clustering is O(n²).
MAX_QUERIES = 1500
MAX_TICKETS = 2000
MAX_CLUSTERED_TICKETS = 1500
BACKGROUND_ENTRIES = 5000


def _published_texts(session: Session, limit: int | None = None) -> list[tuple[int, str, str]]:
    stmt = (
        select(E.id, E.title, E.symptom, E.system)
        .where(E.status == EntryStatus.published.value)
        .order_by(E.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return [(i, f"{t} {sy or ''}", y or "") for i, t, sy, y in session.execute(stmt)]


def gaps(
    session: Session, period: Period, cfg: AnalyticsSettings | None = None, *, top: int = 20
) -> s.GapsReport:
    """Everything a trainer needs to decide what to write next."""
    cfg = cfg or AnalyticsSettings()
    entries = _published_texts(session)
    searches, gap_searches, merged = gap_queries(session, period, cfg)
    labels = Labels(session)
    tickets, non_faults = unlinked_tickets(session, period, labels)
    tickets = [(i, t, sy, labels("system", y), ext) for i, t, sy, y, ext in tickets]
    queries = [max(v, key=v.__getitem__) for v in merged.values()]
    texts = [f"{t} {sy or ''}" for _, t, sy, _, _ in tickets]
    # One IDF space for everything, fitted on a bounded background.
    space = textsim.Space.fit([t for _, t, _ in entries[:BACKGROUND_ENTRIES]] + queries + texts)
    uncovered, ticket_topics = ticket_gaps(space, tickets, texts, entries, cfg, top=top)
    return s.GapsReport(
        period=_period_out(period),
        searches=searches,
        gap_searches=gap_searches,
        confidence_threshold=cfg.gap_confidence,
        search_topics=query_topics(space, merged, queries, cfg, top=top),
        uncovered_tickets=uncovered,
        considered_tickets=len(tickets),
        non_fault_tickets=non_faults,
        ticket_topics=ticket_topics,
        systems=system_coverage(session, period, labels, top=top),
    )


def gap_queries(
    session: Session,
    period: Period,
    cfg: AnalyticsSettings,
) -> tuple[int, int, dict[str, dict[str, int]]]:
    """Search count, gap count, and gap queries merged by cleaned text → {query: count}."""
    conds = period.where(S.at)
    total = session.execute(
        select(func.count()).select_from(table_of(SearchLog)).where(*conds)
    ).scalar_one()
    is_gap = or_(
        S.result_count == 0,
        and_(S.top_confidence.is_not(None), S.top_confidence < cfg.gap_confidence),
    )
    n = func.count().label("n")
    rows = session.execute(
        select(S.query, n)
        .where(is_gap, *conds)
        .group_by(S.query)
        .order_by(n.desc(), S.query)
        .limit(MAX_QUERIES)
    ).all()
    gap_total = session.execute(
        select(func.count()).select_from(table_of(SearchLog)).where(is_gap, *conds)
    ).scalar_one()
    # Same query up to case, width and punctuation counts as one.
    merged: dict[str, dict[str, int]] = defaultdict(dict)
    for q, cnt in rows:
        key = textsim.clean(q or "")
        if key:
            merged[key][q] = merged[key].get(q, 0) + int(cnt)
    return int(total), int(gap_total), merged


def query_topics(
    space: textsim.Space,
    merged: dict[str, dict[str, int]],
    queries: list[str],
    cfg: AnalyticsSettings,
    *,
    top: int = 20,
) -> list[s.QueryCluster]:
    """Gap queries grouped into topics, most searched first."""
    if not queries:
        return []
    totals = [sum(v.values()) for v in merged.values()]
    groups = []
    for group in textsim.cluster(space.transform(queries), cfg.cluster_similarity):
        counts = {queries[i]: totals[i] for i in group}
        groups.append((sum(counts.values()), sorted(counts, key=lambda q: (-counts[q], q))))
    groups.sort(key=lambda g: (-g[0], g[1][0]))
    # Terms only for the topics shown: jieba over every small cluster adds up.
    return [
        s.QueryCluster(
            label=ordered[0], terms=space.top_terms(ordered), searches=n, queries=ordered[:10]
        )
        for n, ordered in groups[:top]
    ]


def unlinked_tickets(
    session: Session, period: Period, labels: Labels | None = None
) -> tuple[list[Any], int]:
    """The most recent resolved tickets with no entry link that are faults, and how many
    non-faults (咨询, 需求, 账号申请 …: categories whose vocabulary parent is 非故障) were left out.
    """
    labels = labels or Labels(session)
    linked = select(L.id).where(L.source == T.source, L.external_id == T.external_id).exists()
    conds = [T.resolved_at.is_not(None), ~linked, *period.where(T.resolved_at)]
    non_fault = labels.non_fault_categories()
    skipped = 0
    if non_fault:
        is_non_fault = labels.condition("category", T.category, non_fault)
        skipped = int(
            session.execute(select(func.count()).where(*conds, is_non_fault)).scalar_one()
        )
        conds.append(~is_non_fault)
    rows = session.execute(
        select(T.id, T.title, T.symptom, T.system, T.external_id)
        .where(*conds)
        .order_by(T.resolved_at.desc(), T.id.desc())
        .limit(MAX_TICKETS)
    ).all()
    return list(rows), skipped


def ticket_gaps(
    space: textsim.Space,
    rows: list[Any],
    texts: list[str],
    entries: list[tuple[int, str, str]],
    cfg: AnalyticsSettings,
    *,
    top: int = 20,
) -> tuple[int, list[s.TicketCluster]]:
    """Unlinked tickets no published entry resembles, clustered (suggest capturing them)."""
    if not rows:
        return 0, []
    best = textsim.best_match(space, texts, [t for _, t, _ in entries])
    weak = [i for i in np.argsort(best, kind="stable") if best[i] < cfg.coverage_similarity]
    picked = sorted(weak[:MAX_CLUSTERED_TICKETS])
    if not picked:
        return 0, []
    vecs = space.transform([texts[i] for i in picked])
    out = []
    for group in textsim.cluster(vecs, cfg.cluster_similarity)[:top]:  # largest first
        members = [picked[g] for g in group]
        sub = vecs[group]
        centroid = np.asarray(sub.mean(axis=0)).ravel()
        central = members[int(np.argmax(sub @ centroid))]
        ordered = sorted(members, key=lambda i: int(rows[i][0]))
        out.append(
            s.TicketCluster(
                label=rows[central][1] or texts[central][:40],
                terms=space.top_terms([texts[i] for i in members]),
                system=textsim.most_common([rows[i][3] for i in members], s.NO_SYSTEM),
                ticket_ids=[int(rows[i][0]) for i in ordered][:50],
                ticket_numbers=[str(rows[i][4]) for i in ordered][:50],
                best_similarity=round(float(max(best[i] for i in members)), 3),
            )
        )
    return len(weak), out


def system_coverage(
    session: Session,
    period: Period,
    labels: Labels | None = None,
    *,
    top: int = 20,
    min_tickets: int = 2,
) -> list[s.SystemCoverage]:
    """Systems ranked by tickets per published entry (systems with none first)."""
    labels = labels or Labels(session)
    tickets: dict[str, int] = defaultdict(int)
    for system, n in session.execute(
        select(T.system, func.count()).where(*period.where(ticket_time())).group_by(T.system)
    ):
        tickets[labels("system", system)] += int(n)
    entries: dict[str, int] = defaultdict(int)
    for system, n in session.execute(
        select(E.system, func.count())
        .select_from(table_of(Entry))
        .where(E.status == EntryStatus.published.value)
        .group_by(E.system)
    ):
        entries[labels("system", system)] += int(n)
    out = [
        s.SystemCoverage(
            system=k,
            tickets=v,
            entries=entries.get(k, 0),
            tickets_per_entry=round(v / entries[k], 2) if entries.get(k) else None,
        )
        for k, v in tickets.items()
        if v >= min_tickets
    ]
    out.sort(key=lambda c: (c.entries > 0, -(c.tickets_per_entry or c.tickets), c.system))
    return out[:top]
