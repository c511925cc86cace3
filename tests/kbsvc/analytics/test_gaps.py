"""Gap analysis: unanswered searches clustered into topics, uncovered tickets, thin systems."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from kbsvc.analytics import gaps, textsim
from kbsvc.analytics.models import SearchLog
from kbsvc.analytics.sqlfn import Period
from kbsvc.config import AnalyticsSettings


def _log(
    session: Session, query: str, times: int, *, results: int = 0, conf: float | None = None
) -> None:
    for _ in range(times):
        session.add(
            SearchLog(
                id=uuid.uuid4().hex,
                kind="suggest",
                query=query,
                result_count=results,
                top_confidence=conf,
            )
        )
    session.commit()


def test_similar_unanswered_queries_share_a_topic(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    _log(session, "手术室无影灯不亮", 3)
    _log(session, "无影灯坏了", 2)
    _log(session, "停车场道闸", 2)
    _log(session, "医生站打不开", 1, results=3, conf=0.1)  # answered, but not confidently
    _log(session, "HIS登录失败", 1, results=5, conf=0.9)  # answered well: not a gap
    r = gaps.gaps(session, Period())
    assert (r.searches, r.gap_searches) == (9, 8)
    topics = {t.label: t for t in r.search_topics}
    lamp = topics["手术室无影灯不亮"]
    assert sorted(lamp.queries) == sorted(["手术室无影灯不亮", "无影灯坏了"])
    assert lamp.searches == 5 and "无影灯" in lamp.terms
    assert topics["停车场道闸"].queries == ["停车场道闸"]
    assert "HIS登录失败" not in {q for t in r.search_topics for q in t.queries}
    assert r.search_topics[0].label == "手术室无影灯不亮"  # most searched first


def test_uncovered_tickets_and_thin_systems(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = gaps.gaps(session, Period())
    # Only T4 is resolved without a link, and no entry talks about printers.
    assert (r.considered_tickets, r.uncovered_tickets) == (1, 1)
    assert [t.ticket_ids for t in r.ticket_topics] == [[world.t[3].id]]
    assert r.ticket_topics[0].system == "HIS"
    # Systems with ≥ 2 tickets: HIS has 4 tickets and 2 published entries.
    assert [(c.system, c.tickets, c.entries, c.tickets_per_entry) for c in r.systems] == [
        ("HIS", 4, 2, 2.0)
    ]


def test_covered_ticket_is_not_a_gap(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    strict = AnalyticsSettings(coverage_similarity=0.0)
    r = gaps.gaps(session, Period(), strict)
    assert (r.considered_tickets, r.uncovered_tickets, r.ticket_topics) == (1, 0, [])


def test_empty_gaps(session: Session) -> None:
    r = gaps.gaps(session, Period.parse("2024-01-01", "2024-01-31"))
    assert (r.searches, r.gap_searches, r.search_topics, r.ticket_topics, r.systems) == (
        0,
        0,
        [],
        [],
        [],
    )


def test_clustering_keeps_unrelated_topics_apart() -> None:
    queries = [
        "手术室无影灯不亮",
        "无影灯坏了",
        "无影灯不亮了怎么办",
        "停车场道闸",
        "停车场道闸抬不起来",
        "医保卡读不出来",
        "读卡器读不了医保卡",
    ]
    space = textsim.Space.fit(queries)
    groups = [sorted(queries[i] for i in g) for g in textsim.cluster(space.transform(queries), 0.3)]
    lamp = next(g for g in groups if "无影灯坏了" in g)
    assert set(lamp) == {"手术室无影灯不亮", "无影灯坏了", "无影灯不亮了怎么办"}
    assert ["停车场道闸", "停车场道闸抬不起来"] in groups
    assert all(not ("停车场道闸" in g and "无影灯坏了" in g) for g in groups)
