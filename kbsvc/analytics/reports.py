"""Demand, reuse and health reports: SQL aggregates (SQLite and PostgreSQL), medians in Python."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, SQLModel

from kbsvc.analytics import schemas as s
from kbsvc.analytics.effort import effort, ticket_time, with_handling
from kbsvc.analytics.grouping import Labels
from kbsvc.analytics.sqlfn import Period, month_of
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.db import table_of
from kbsvc.entries.models import Entry, EntryLink, EntryStatus, LinkKind
from kbsvc.tickets.models import Ticket
from kbsvc.timeutil import utcnow

T = table_of(Ticket).c
L = table_of(EntryLink).c
E = table_of(Entry).c


def _period_out(period: Period) -> s.PeriodOut:
    return s.PeriodOut.model_validate(period.as_dict())


def _label(value: str | None, empty: str) -> str:
    return (value or "").strip() or empty


def demand(session: Session, period: Period, trend: Period | None = None) -> s.DemandReport:
    """Tickets by department × system and by category (grouped through the vocabularies),
    by month over `trend` (default: the period), and effort per system."""
    labels = Labels(session)
    when = ticket_time()
    conds = period.where(when)
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for dept, system, n in session.execute(
        select(T.department, T.system, func.count()).where(*conds).group_by(T.department, T.system)
    ):
        cells[(labels("department", dept), labels("system", system))] += n
    dept_tot: dict[str, int] = defaultdict(int)
    sys_tot: dict[str, int] = defaultdict(int)
    for (d, y), n in cells.items():
        dept_tot[d] += n
        sys_tot[y] += n
    depts = sorted(dept_tot, key=lambda k: (-dept_tot[k], k))
    systems = sorted(sys_tot, key=lambda k: (-sys_tot[k], k))
    matrix = s.Matrix(
        departments=depts,
        systems=systems,
        counts=[[cells.get((d, y), 0) for y in systems] for d in depts],
    )
    cats: dict[str, int] = defaultdict(int)
    for cat, n in session.execute(
        select(T.category, func.count()).where(*conds).group_by(T.category)
    ):
        cats[labels("category", cat)] += n
    by_category = [
        s.NameCount(name=k, count=v)
        for k, v in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    basis, rows = effort(session, period, labels)
    return s.DemandReport(
        period=_period_out(period),
        total=sum(cells.values()),
        matrix=matrix,
        by_month=by_month(session, trend or period),
        by_category=by_category,
        effort=rows,
        effort_basis=basis,
        effort_label=s.EFFORT_LABELS[basis],
        effort_with_handling=with_handling(session, period),
    )


def by_month(session: Session, period: Period) -> list[s.MonthCount]:
    """Tickets raised per local month of the period, months without tickets as zero."""
    when = ticket_time()
    month = month_of(when)
    per_month = dict(
        session.execute(
            select(month, func.count())
            .where(when.is_not(None), *period.where(when))
            .group_by(month)
        ).all()
    )
    return [
        s.MonthCount(month=m, count=per_month.get(m, 0)) for m in period.months(list(per_month))
    ]


def _ticket_links() -> Any:
    """One row per linked ticket key: did it create an entry, did it cite one."""
    return (
        select(
            L.source,
            L.external_id,
            func.max(case((L.kind == LinkKind.source.value, 1), else_=0)).label("is_new"),
            func.max(case((L.kind == LinkKind.cited.value, 1), else_=0)).label("is_cited"),
        )
        .group_by(L.source, L.external_id)
        .subquery("tl")
    )


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def reuse(
    session: Session, period: Period, *, principal: Principal, top: int = 20, listed: int = 50
) -> s.ReuseReport:
    """Link rate by month, new vs known, reuse per entry, never-reused entries, feedback.

    Counts cover the whole KB; listed entries are only those `principal` may see (auth.policy).
    """
    by_month = link_months(session, period)
    resolved = sum(x.resolved for x in by_month)
    linked_n = sum(x.linked for x in by_month)
    new_n, known_n = sum(x.new for x in by_month), sum(x.known for x in by_month)
    never_count, never = never_reused(session, principal=principal, limit=listed)
    return s.ReuseReport(
        period=_period_out(period),
        resolved=resolved,
        linked=linked_n,
        link_rate=_rate(linked_n, resolved),
        new=new_n,
        known=known_n,
        unlinked=resolved - linked_n,
        by_month=by_month,
        top_entries=top_entries(session, period, principal=principal, limit=top),
        never_reused_count=never_count,
        never_reused=never,
        feedback=feedback(session, period),
    )


def link_months(session: Session, period: Period) -> list[s.LinkMonth]:
    """Resolved tickets per local month: how many were linked to an entry, new or known."""
    tl = _ticket_links()
    month = month_of(T.resolved_at)
    linked = case((tl.c.source.is_not(None), 1), else_=0)
    new = func.coalesce(tl.c.is_new, 0)
    known = case((and_(tl.c.is_cited == 1, new == 0), 1), else_=0)
    rows = session.execute(
        select(month, func.count(), func.sum(linked), func.sum(new), func.sum(known))
        .select_from(
            table_of(Ticket).outerjoin(
                tl, and_(tl.c.source == T.source, tl.c.external_id == T.external_id)
            )
        )
        .where(T.resolved_at.is_not(None), *period.where(T.resolved_at))
        .group_by(month)
    ).all()
    stats = {m: (int(n), int(lk or 0), int(nw or 0), int(kn or 0)) for m, n, lk, nw, kn in rows}
    out = []
    for m in period.months(list(stats)):
        n, lk, nw, kn = stats.get(m, (0, 0, 0, 0))
        out.append(
            s.LinkMonth(month=m, resolved=n, linked=lk, link_rate=_rate(lk, n), new=nw, known=kn)
        )
    return out


def top_entries(
    session: Session, period: Period, *, principal: Principal, limit: int = 20
) -> list[s.EntryReuse]:
    """Entries `principal` may see by citations, then by linked tickets, in the period."""
    tickets_t = table_of(Ticket)
    join = table_of(EntryLink).outerjoin(
        tickets_t, and_(T.source == L.source, T.external_id == L.external_id)
    )
    when = func.coalesce(T.resolved_at, T.opened_at, L.created_at)
    cites = func.sum(case((L.kind == LinkKind.cited.value, 1), else_=0)).label("cites")
    tickets = func.count(T.id.distinct()).label("tickets")
    sub = (
        select(L.entry_id, cites, tickets)
        .select_from(join)
        .where(*period.where(when))
        .group_by(L.entry_id)
        .subquery("r")
    )
    rows = session.execute(
        select(sub.c.entry_id, E.title, E.system, E.status, sub.c.cites, sub.c.tickets)
        .join(table_of(Entry), E.id == sub.c.entry_id)
        .where(sub.c.cites > 0, policy.visible_filter(principal))
        .order_by(sub.c.cites.desc(), sub.c.tickets.desc(), sub.c.entry_id)
        .limit(limit)
    )
    return [
        s.EntryReuse(
            entry_id=i,
            title=t,
            system=_label(y, s.NO_SYSTEM),
            status=st,
            citations=int(c),
            linked_tickets=int(n),
        )
        for i, t, y, st, c, n in rows
    ]


def never_reused(
    session: Session, *, principal: Principal, limit: int = 50
) -> tuple[int, list[s.EntryBrief]]:
    """Published entries no ticket ever cited: how many, and those `principal` may see (oldest
    first: the likeliest dead weight)."""
    cited = select(L.entry_id).where(L.kind == LinkKind.cited.value, L.entry_id == E.id).exists()
    cond = and_(E.status == EntryStatus.published.value, ~cited)
    count = session.execute(
        select(func.count()).select_from(table_of(Entry)).where(cond)
    ).scalar_one()
    rows = session.execute(
        select(E.id, E.title, E.system, E.created_at)
        .where(cond, policy.visible_filter(principal))
        .order_by(E.created_at, E.id)
        .limit(limit)
    )
    return int(count), [
        s.EntryBrief(entry_id=i, title=t, system=_label(y, s.NO_SYSTEM), created_at=c)
        for i, t, y, c in rows
    ]


def optional_table(name: str, *columns: str) -> Table | None:
    """A table another domain may add later, if it exists with the needed columns."""
    table = SQLModel.metadata.tables.get(name)
    if table is None or any(c not in table.c for c in columns):
        return None
    return table


def feedback(session: Session, period: Period) -> s.Feedback | None:
    """Helpful vs not-helpful votes in the period; None before feedback exists."""
    fb = optional_table("entry_feedback", "helpful")
    if fb is None:
        return None
    conds = period.where(fb.c.created_at) if "created_at" in fb.c else []
    helpful, total = session.execute(
        select(func.sum(case((fb.c.helpful.is_(True), 1), else_=0)), func.count()).where(*conds)
    ).one()
    helpful, total = int(helpful or 0), int(total or 0)
    return s.Feedback(helpful=helpful, not_helpful=total - helpful, ratio=_rate(helpful, total))


def health(
    session: Session, period: Period, *, principal: Principal, limit: int = 20
) -> s.HealthReport:
    """Entries by state, overdue reviews and open flags (a snapshot of now); listed entries
    are only those `principal` may see."""
    by_status = {st.value: 0 for st in EntryStatus}
    for st, n in session.execute(select(E.status, func.count()).group_by(E.status)):
        by_status[st] = int(n)
    overdue_n: int | None = None
    overdue: list[s.EntryBrief] = []
    if "review_due_at" in E:
        cond = and_(E.review_due_at < utcnow(), E.status == EntryStatus.published.value)
        overdue_n = session.execute(
            select(func.count()).select_from(table_of(Entry)).where(cond)
        ).scalar_one()
        overdue = [
            s.EntryBrief(entry_id=i, title=t, system=y, created_at=c)
            for i, t, y, c in session.execute(
                select(E.id, E.title, E.system, E.review_due_at)
                .where(cond, policy.visible_filter(principal))
                .order_by(E.review_due_at)
                .limit(limit)
            )
        ]
    flags_n, flagged = _open_flags(session, principal, limit)
    return s.HealthReport(
        period=_period_out(period),
        total=sum(by_status.values()),
        by_status=by_status,
        overdue_reviews=overdue_n,
        overdue=overdue,
        open_flags=flags_n,
        flagged=flagged,
        published_never_reused=never_reused(session, principal=principal, limit=0)[0],
    )


def _open_flags(
    session: Session, principal: Principal, limit: int
) -> tuple[int | None, list[s.EntryBrief]]:
    flags = optional_table("review_flags", "entry_id")
    if flags is None:
        return None, []
    conds: list[ColumnElement[bool]] = []
    if "status" in flags.c:
        conds.append(flags.c.status == "open")
    elif "resolved_at" in flags.c:
        conds.append(flags.c.resolved_at.is_(None))
    n = session.execute(select(func.count()).select_from(flags).where(*conds)).scalar_one()
    rows = session.execute(
        select(E.id, E.title, E.system, E.created_at)
        .join(flags, flags.c.entry_id == E.id)
        .where(*conds, policy.visible_filter(principal))
        .distinct()
        .order_by(E.id)
        .limit(limit)
    )
    return int(n), [
        s.EntryBrief(entry_id=i, title=t, system=y, created_at=c) for i, t, y, c in rows
    ]
