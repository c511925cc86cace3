"""Drill-down for the health figures: the entries behind a state bar or a health row."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlmodel import Session

from kbsvc.analytics import reports
from kbsvc.analytics import schemas as s
from kbsvc.analytics.reports import E
from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import ValidationFailed
from kbsvc.timeutil import utcnow

ENTRY_SETS = {
    "draft": "草稿",
    "in_review": "待审核",
    "published": "已发布",
    "archived": "已归档",
    "overdue": "复审逾期",
    "flagged": "被标记待处理",
    "never_reused": "已发布但从未被复用",
}


def entries(
    session: Session, which: str, *, principal: Principal, limit: int = 200
) -> s.EntryDrill:
    """Entries of one health set that `principal` may see (auth.policy), at most `limit`."""
    if which not in ENTRY_SETS:
        raise ValidationFailed(
            "set（条目集合）应为 " + "、".join(ENTRY_SETS), field="set", allowed=list(ENTRY_SETS)
        )
    rows: list[s.EntryBrief]
    if which == "never_reused":
        rows = reports.never_reused(session, principal=principal, limit=limit)[1]
    elif which == "flagged":
        rows = reports._open_flags(session, principal, limit)[1]
    else:
        if which == "overdue":
            cond = and_(E.review_due_at < utcnow(), E.status == EntryStatus.published.value)
            when, order = E.review_due_at, E.review_due_at.asc()
        else:
            cond, when, order = E.status == which, E.updated_at, E.updated_at.desc()
        rows = [
            s.EntryBrief(entry_id=i, title=t, system=y or "", created_at=c)
            for i, t, y, c in session.execute(
                select(E.id, E.title, E.system, when)
                .where(cond, policy.visible_filter(principal))
                .order_by(order, E.id)
                .limit(limit)
            )
        ]
    return s.EntryDrill(set=which, label=ENTRY_SETS[which], data=rows)
