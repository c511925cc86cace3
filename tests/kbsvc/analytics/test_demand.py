"""Demand report against hand-computed counts."""

from __future__ import annotations

from sqlmodel import Session

from kbsvc.analytics import reports
from kbsvc.analytics.schemas import NO_CATEGORY, NO_DEPARTMENT
from kbsvc.analytics.sqlfn import Period


def test_matrix_months_categories_effort(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.demand(session, Period())
    assert r.total == 6
    assert r.matrix.departments == ["心内科", "检验科", "放射科", NO_DEPARTMENT]
    assert r.matrix.systems == ["HIS", "LIS", "PACS"]
    assert r.matrix.counts == [[2, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]]
    # T5 opened 31 March 23:30 local (15:30 UTC): it belongs to March, not April.
    assert [(m.month, m.count) for m in r.by_month] == [
        ("2025-01", 2),
        ("2025-02", 1),
        ("2025-03", 2),
        ("2025-04", 1),
    ]
    assert [(c.name, c.count) for c in r.by_category] == [
        ("登录与账号", 3),  # imported as 登录 / 接口: stored in the vocabulary's spelling
        (NO_CATEGORY, 2),
        ("接口对接", 1),
    ]
    # HIS: 2 h, 6 h, 1 h, 1 h → 10 h, median 1.5 h; LIS: 24 h; PACS still open.
    assert [(e.system, e.tickets, e.total_hours, e.median_hours) for e in r.effort] == [
        ("LIS", 1, 24.0, 24.0),
        ("HIS", 4, 10.0, 1.5),
    ]


def test_period_filters_by_local_dates(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.demand(session, Period.parse("2025-02-01", "2025-03-31"))
    assert r.total == 3  # T3, T4, T5 (T5 at 23:30 on the 31st is inside)
    assert [(m.month, m.count) for m in r.by_month] == [("2025-02", 1), ("2025-03", 2)]
    assert r.matrix.departments == ["检验科", NO_DEPARTMENT]


def test_empty_period_gives_zeros(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.demand(session, Period.parse("2024-01-01", "2024-02-29"))
    assert r.total == 0
    assert r.matrix.departments == [] and r.matrix.counts == []
    assert [(m.month, m.count) for m in r.by_month] == [("2024-01", 0), ("2024-02", 0)]
    assert r.by_category == [] and r.effort == []


def test_empty_database(session: Session) -> None:
    r = reports.demand(session, Period())
    assert r.total == 0 and r.by_month == [] and r.effort == []
