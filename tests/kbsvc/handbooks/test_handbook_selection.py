"""Selection by filters/query, reuse ordering, the cap and grouping into chapters."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from indexer.engine import SearchEngine
from kbsvc.auth import policy
from kbsvc.auth.models import SYSTEM, Principal, Role
from kbsvc.config import Settings
from kbsvc.exceptions import ServiceUnavailable, ValidationFailed
from kbsvc.handbooks import assemble, document
from kbsvc.handbooks.models import Grouping, HandbookCreate, Selection
from kbsvc.handbooks.selection import select_entries
from kbsvc.timeutil import utcnow


def titles(rows: list[dict]) -> list[str]:
    return [r["title"] for r in rows]


def test_published_only_most_reused_first_then_most_recent(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    rows = select_entries(
        session, Selection(systems=["HIS"]), search=search, principal=SYSTEM, limit=100
    )
    assert [r["id"] for r in rows][:2] == [kb_ids["ca"], kb_ids["wrist"]]
    assert kb_ids["draft"] not in {r["id"] for r in rows}
    # Equal reuse (2 each): the more recently updated entry comes first.
    assert titles(rows).index("门诊医生站早高峰保存处方卡顿") < titles(rows).index(
        "处方药品单价显示为零"
    )
    assert {r["system"] for r in rows} == {"HIS"}
    assert rows[0]["reuse"] == 6 and rows[0]["version"] >= 1


def test_facet_filters_and_cap(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    assert (
        len(select_entries(session, Selection(), search=search, principal=SYSTEM, limit=100)) == 12
    )
    rows = select_entries(
        session, Selection(categories=["打印"]), search=search, principal=SYSTEM, limit=100
    )
    assert set(titles(rows)) == {
        "住院护士站腕带打印错位",
        "执行单打印缺少长期医嘱",
        "电子发票打印提示模板不存在",
        "检验条码打印机不出纸",
    }
    assert (
        len(
            select_entries(
                session, Selection(modules=["结果审核"]), search=search, principal=SYSTEM, limit=100
            )
        )
        == 2
    )
    assert (
        len(
            select_entries(
                session, Selection(tags=["LIS"]), search=search, principal=SYSTEM, limit=100
            )
        )
        == 4
    )
    capped = select_entries(session, Selection(), search=search, principal=SYSTEM, limit=3)
    assert [r["id"] for r in capped] == [kb_ids["ca"], kb_ids["lis-barcode"], kb_ids["wrist"]]


def test_query_ranks_through_the_real_search_engine(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    search.sync()
    rows = select_entries(
        session, Selection(query="腕带打印错位"), search=search, principal=SYSTEM, limit=100
    )
    assert kb_ids["wrist"] in {r["id"] for r in rows}
    assert kb_ids["draft"] not in {r["id"] for r in rows} and kb_ids["lis-qc"] not in {
        r["id"] for r in rows
    }
    # Facets still narrow the engine's hits.
    lis = select_entries(
        session,
        Selection(query="打印", systems=["LIS"]),
        search=search,
        principal=SYSTEM,
        limit=100,
    )
    assert [r["id"] for r in lis] == [kb_ids["lis-barcode"]]


def test_query_selection_respects_the_reader(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    policy.set_restrictions(session, kb_ids["wrist"], ["内科"])
    session.commit()
    search.sync()
    ortho = Principal(kind="user", name="gk", role=Role.editor, departments=("骨科",))
    selection = Selection(query="腕带打印错位")
    hidden = select_entries(session, selection, search=search, principal=ortho, limit=100)
    assert kb_ids["wrist"] not in {r["id"] for r in hidden}
    shown = select_entries(session, selection, search=search, principal=SYSTEM, limit=100)
    assert kb_ids["wrist"] in {r["id"] for r in shown}


def test_query_while_the_index_builds_is_503_not_empty(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    search.ready = False
    with pytest.raises(ServiceUnavailable):
        select_entries(session, Selection(query="打印"), search=search, principal=SYSTEM, limit=100)


def test_zero_entries_is_a_clear_validation_error(
    session: Session, settings: Settings, search: SearchEngine
) -> None:
    data = HandbookCreate(title="空手册", selection=Selection(systems=["不存在的系统"]))
    with pytest.raises(ValidationFailed) as err:
        assemble.build_adhoc(session, data=data, settings=settings, search=search, principal=SYSTEM)
    assert "没有符合条件" in err.value.message and "No published entries" in err.value.message


def test_grouping_numbers_chapters_and_sections(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    rows = select_entries(session, Selection(), search=search, principal=SYSTEM, limit=100)
    doc = document.build(rows, title="t", base_url="http://kb.local/", generated_at=utcnow())
    assert [c.title for c in doc.chapters] == ["HIS", "LIS"]
    his = doc.chapters[0]
    assert [s.title for s in his.sections][:2] == ["门诊医生站", "护士站"]
    assert his.sections[0].number == "1.1" and his.sections[0].entries[0].number == "1.1.1"
    assert his.sections[0].entries[0].url == f"http://kb.local/entries/{kb_ids['ca']}"
    by_cause = document.build(
        rows, title="t", base_url="", generated_at=utcnow(), grouping=Grouping.cause_category
    )
    assert by_cause.chapters[0].title == "打印"
    assert [s.title for s in by_cause.chapters[0].sections] == ["HIS", "LIS"]


def test_single_system_promotes_modules_to_chapters(
    session: Session, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    rows = select_entries(
        session, Selection(systems=["HIS"]), search=search, principal=SYSTEM, limit=100
    )
    doc = document.build(rows, title="t", base_url="", generated_at=utcnow())
    assert [c.title for c in doc.chapters] == ["门诊医生站", "护士站", "挂号收费", "号源管理"]
    assert doc.chapters[0].sections[0].entries[0].id == kb_ids["ca"]
    # Equal-sized sections: the one holding the most reused entry comes first.
    assert [s.title for s in doc.chapters[0].sections] == ["登录与账号", "性能卡顿", "数据错误"]
    assert doc.entry_count == 8
