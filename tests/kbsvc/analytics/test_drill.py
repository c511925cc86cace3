"""Reports a director acts on: drill-down, effort basis, vocabulary grouping, the gap list."""

from __future__ import annotations

import re

from sqlmodel import Session

from kbsvc.analytics import drill, gaps, heatmap, page, reports
from kbsvc.analytics.schemas import DrillFilters
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth import policy
from kbsvc.auth.models import SYSTEM, Principal, Role
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, LinkKind
from kbsvc.tickets.models import Ticket
from kbsvc.vocab import service as vocab
from kbsvc.vocab.models import VocabKind, VocabTermIn
from tests.factories import make_entry, make_ticket


def _raw_ticket(session: Session, ext: str, **fields: object) -> Ticket:
    """A ticket stored as typed, as rows imported before the vocabulary knew the spelling are."""
    from tests.factories import ticket_data

    data = {**ticket_data(external_id=ext), **fields}
    data["tags"] = []
    ticket = Ticket(**data)
    session.add(ticket)
    session.commit()
    return ticket


def _numbers(result: object) -> list[str]:
    return sorted(t.external_id for t in result.data)  # type: ignore[attr-defined]


def test_effort_is_elapsed_until_the_helpdesk_gives_handling_time(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    r = reports.demand(session, Period())
    assert (r.effort_basis, r.effort_label) == ("elapsed", "解决用时（自然时间）")
    body = page.render_body(page.context(session, Period(), principal=SYSTEM))
    assert "解决用时（自然时间）" in body and "工作量" not in body
    make_ticket(
        session,
        external_id="T7",
        system="HIS",
        handling_minutes=90,
        opened_at="2025-05-01 09:00",
        resolved_at="2025-05-03 09:00",
    )
    make_ticket(session, external_id="T8", system="LIS", handling_minutes=30)
    r = reports.demand(session, Period())
    assert (r.effort_basis, r.effort_label) == ("handling", "处理工作量（工时）")
    # Only the recorded working time counts: 1.5 h, not the 48 h between opened and resolved.
    assert [(e.system, e.tickets, e.total_hours) for e in r.effort] == [
        ("HIS", 1, 1.5),
        ("LIS", 1, 0.5),
    ]
    assert r.effort_with_handling == 2
    body = page.render_body(page.context(session, Period(), principal=SYSTEM))
    assert "处理工作量（工时）" in body and "2 / 8 张工单有工时" in body
    effort = drill.tickets(
        session, Period(), DrillFilters(system=["HIS"], effort=True), principal=SYSTEM
    )
    assert _numbers(effort) == ["T7"] and effort.data[0].handling_minutes == 90


def test_vocabulary_merges_department_and_system_aliases(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    _raw_ticket(session, "A1", department="心血管内科", system="医保结算")
    _raw_ticket(session, "A2", department="心内", system="HIS系统")
    r = reports.demand(session, Period())
    assert "心血管内科" not in r.matrix.departments and "心内" not in r.matrix.departments
    assert "医保结算" not in r.matrix.systems and "HIS系统" not in r.matrix.systems
    row = r.matrix.counts[r.matrix.departments.index("心内科")]
    assert row[r.matrix.systems.index("HIS")] == 3  # T1, T2 and A2 (stored as 心内 / HIS系统)
    assert row[r.matrix.systems.index("医保")] == 1
    cell = drill.tickets(
        session, Period(), DrillFilters(department=["心内科"], system=["HIS"]), principal=SYSTEM
    )
    assert _numbers(cell) == ["A2", "T1", "T2"]
    assert {(t.department, t.system) for t in cell.data} == {("心内科", "HIS")}


def test_gap_list_shows_ticket_numbers_and_drops_non_faults(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    for ext, category in (("Q1", "业务咨询"), ("Q2", "需求"), ("Q3", "培训")):
        make_ticket(
            session,
            external_id=ext,
            category=category,
            title="咨询医保报销比例怎么查",
            symptom="科室咨询医保报销比例",
            resolved_at="2025-03-02 10:00",
        )
    r = gaps.gaps(session, Period())
    assert r.non_fault_tickets == 2  # 业务咨询 (alias of 咨询) and 需求
    assert sorted(n for t in r.ticket_topics for n in t.ticket_numbers) == ["Q3", "T4"]
    # A site marks another category as not a fault by giving it the parent 非故障.
    vocab.create(session, data=VocabTermIn(kind=VocabKind.category, value="培训", parent="非故障"))
    session.commit()
    r = gaps.gaps(session, Period())
    assert r.non_fault_tickets == 3
    assert [t.ticket_numbers for t in r.ticket_topics] == [["T4"]]
    body = page.render_body(page.context(session, Period(), principal=SYSTEM))
    section = body[body.index("建议沉淀") : body.index("工单多、知识少的系统")]
    assert ">T4<" in section and f">{world.t[3].id}<" not in section
    assert "另有 3 张咨询、需求等非故障工单未列入" in section
    topic = drill.tickets(
        session,
        Period(),
        DrillFilters(ticket=r.ticket_topics[0].ticket_ids, by="resolved"),
        principal=SYSTEM,
    )
    assert _numbers(topic) == ["T4"]


def test_drill_lists_only_entries_the_caller_may_see(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    hidden = make_entry(session, title="检验科内部处理办法", system="HIS")
    policy.set_restrictions(session, hidden.id or 0, ["检验科"])
    draft = make_entry(session, status=EntryStatus.draft, title="未发布的草稿", system="HIS")
    for e in (hidden, draft):
        entries.link_ticket(
            session,
            entry_id=e.id or 0,
            source="test",
            external_id="T1",
            kind=LinkKind.cited,
            actor="test",
        )
    session.commit()
    f = DrillFilters(department=["心内科"], system=["HIS"])
    reviewer = Principal(kind="user", name="r", role=Role.reviewer, departments=("心内科",))
    lab = Principal(kind="user", name="l", role=Role.reviewer, departments=("检验科",))
    seen = {
        who: {
            e.title
            for t in drill.tickets(session, Period(), f, principal=p).data
            if t.external_id == "T1"
            for e in t.entries
        }
        for who, p in (("reviewer", reviewer), ("lab", lab), ("system", SYSTEM))
    }
    assert seen["reviewer"] == {"医生站CA证书过期无法登录", "未发布的草稿"}
    assert seen["lab"] == seen["reviewer"] | {"检验科内部处理办法"}
    assert seen["system"] == seen["lab"]


def test_month_and_entry_drills_match_the_report(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    by_month = reports.demand(session, Period()).by_month
    for m in by_month:
        got = drill.tickets(session, Period(), DrillFilters(month=m.month), principal=SYSTEM)
        assert got.total == m.count
    march = drill.tickets(session, Period(), DrillFilters(month="2025-03"), principal=SYSTEM)
    assert _numbers(march) == ["T4", "T5"]  # T5: 31 March 23:30 local
    top = reports.reuse(session, Period(), principal=SYSTEM).top_entries
    for e in top:
        got = drill.tickets(session, Period(), DrillFilters(entry=e.entry_id), principal=SYSTEM)
        assert got.total == e.linked_tickets


def test_heatmap_legend_bins_are_whole_and_distinct() -> None:
    svg = heatmap.heatmap(["心内科", "检验科"], ["HIS", "LIS"], [[2, 1], [0, 1]])
    legend = svg[svg.index("工单数") :]
    assert re.findall(r">([^<>]+)</text>", legend) == ["0", "1", "2"]
    assert "≥" not in svg
    assert [heatmap.bin_label(*b) for b in heatmap.bins(37)] == ["1–10", "11–20", "21–30", "31–37"]
    assert heatmap.bins(0) == []
    linked = heatmap.heatmap(
        ["心内科"], ["HIS"], [[3]], link=lambda ds, ys: f"/reports/tickets?d={ds[0]}&s={ys[0]}"
    )
    assert 'href="/reports/tickets?d=心内科&amp;s=HIS"' in linked


def test_webhook_and_import_carry_handling_minutes() -> None:
    from kbsvc.hooks.payload import parse_event
    from kbsvc.intake.mapping import Mapping as M
    from kbsvc.intake.parsing import parse_row

    _id, _kind, item = parse_event(
        {
            "event": "resolved",
            "id": "e1",
            "ticket": {"external_id": "W1", "title": "打印机卡纸", "处理时长": "45分钟"},
        },
        M(),
        source="hd",
    )
    assert item.handling_minutes == 45
    bound = M().bind(["标题", "工时（小时）"])
    assert parse_row({"标题": "x", "工时（小时）": "1.5"}, bound, source="s").handling_minutes == 90
    bound = M().bind(["标题", "处理时长"])
    assert parse_row({"标题": "x", "处理时长": "2h30m"}, bound, source="s").handling_minutes == 150
