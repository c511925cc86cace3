"""Drill-down: the tickets behind a report cell, bar or row, with the entries they link to."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from kbsvc.analytics import schemas as s
from kbsvc.analytics.effort import ticket_time, with_handling
from kbsvc.analytics.grouping import Labels
from kbsvc.analytics.page import month_period
from kbsvc.analytics.reports import E, L, T, _period_out
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.db import table_of
from kbsvc.entries.models import Entry, EntryLink
from kbsvc.exceptions import NotFound
from kbsvc.tickets.models import Ticket


def _time_conditions(period: Period, f: s.DrillFilters) -> list[ColumnElement[bool]]:
    """The period (and month) on the clock the report cell used."""
    if f.entry is not None:
        return []  # the link's own time, inside the entry condition
    col = T.resolved_at if f.by == "resolved" else ticket_time()
    conds = period.where(col)
    if f.month:
        conds += month_period(f.month).where(col)
    if f.by == "resolved":
        conds.append(T.resolved_at.is_not(None))
    return conds


def conditions(
    session: Session, period: Period, f: s.DrillFilters, *, principal: Principal
) -> list[ColumnElement[bool]]:
    """SQL conditions on `tickets` selecting exactly the tickets a report cell counted."""
    labels = Labels(session)
    conds = _time_conditions(period, f)
    for kind, column, wanted in (
        ("department", T.department, f.department),
        ("system", T.system, f.system),
        ("category", T.category, f.category),
    ):
        if wanted:
            conds.append(labels.condition(kind, column, wanted))
    if f.ticket:
        conds.append(T.id.in_(f.ticket))
    if f.effort:
        conds += _effort_conditions(session, period)
    if f.entry is not None:
        entry = session.get(Entry, f.entry)
        if entry is None:
            raise NotFound(f"知识条目 {f.entry} 不存在", entry_id=f.entry)
        policy.ensure_visible(session, principal, entry)
        # Same clock as reports.top_entries: the ticket's time, else when it was linked.
        when = func.coalesce(T.resolved_at, T.opened_at, L.created_at)
        conds.append(
            exists().where(
                L.source == T.source,
                L.external_id == T.external_id,
                L.entry_id == f.entry,
                *period.where(when),
            )
        )
    return conds


def _effort_conditions(session: Session, period: Period) -> list[ColumnElement[bool]]:
    """What reports.effort counted: handling times when the period has any, else durations."""
    if with_handling(session, period):
        return [T.handling_minutes.is_not(None)]
    return [T.opened_at.is_not(None), T.resolved_at.is_not(None), T.resolved_at >= T.opened_at]


def tickets(
    session: Session,
    period: Period,
    f: s.DrillFilters,
    *,
    principal: Principal,
    offset: int = 0,
    limit: int = 50,
) -> s.DrillDown:
    """The matching tickets, newest first, each with the entries `principal` may see."""
    conds = conditions(session, period, f, principal=principal)
    total = session.execute(
        select(func.count()).select_from(table_of(Ticket)).where(*conds)
    ).scalar_one()
    rows = session.execute(
        select(table_of(Ticket))
        .where(*conds)
        .order_by(ticket_time().desc(), T.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    labels = Labels(session)
    linked = _entries(session, [(r.source, r.external_id) for r in rows], principal)
    data = [
        s.DrillTicket(
            id=r.id,
            source=r.source,
            external_id=r.external_id,
            title=r.title,
            department=labels("department", r.department),
            system=labels("system", r.system),
            category=labels("category", r.category),
            opened_at=r.opened_at,
            resolved_at=r.resolved_at,
            handling_minutes=r.handling_minutes,
            elapsed_hours=_elapsed(r),
            entries=linked.get((r.source, r.external_id), []),
        )
        for r in rows
    ]
    return s.DrillDown(
        period=_period_out(period),
        filters=f,
        total=int(total),
        offset=offset,
        limit=limit,
        data=data,
    )


def _elapsed(row: Any) -> float | None:
    if row.opened_at is None or row.resolved_at is None or row.resolved_at < row.opened_at:
        return None
    return round((row.resolved_at - row.opened_at).total_seconds() / 3600, 2)


def _entries(
    session: Session, keys: list[tuple[str, str]], principal: Principal
) -> dict[tuple[str, str], list[s.DrillEntry]]:
    """Entries linked to these tickets that `principal` may see (auth.policy), by ticket key."""
    out: dict[tuple[str, str], list[s.DrillEntry]] = defaultdict(list)
    if not keys:
        return out
    ext_ids = sorted({k[1] for k in keys})
    rows = session.execute(
        select(L.source, L.external_id, E.id, E.title, E.status, L.kind)
        .select_from(table_of(Entry).join(table_of(EntryLink), L.entry_id == E.id))
        .where(L.external_id.in_(ext_ids), policy.visible_filter(principal))
        .order_by(E.id)
    )
    wanted = set(keys)
    for source, ext, entry_id, title, status, kind in rows:
        if (source, ext) in wanted and all(x.entry_id != entry_id for x in out[(source, ext)]):
            out[(source, ext)].append(
                s.DrillEntry(entry_id=entry_id, title=title, status=status, kind=kind)
            )
    return out
