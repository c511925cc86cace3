"""Browse by filters alone, sorted by reuse or recency; search counts what actually matches."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, LinkKind
from tests.factories import make_entry

H = dict[str, str]


def _seed(session: Session) -> dict[str, int]:
    ids = {
        "ca": make_entry(session).id or 0,
        "his_print": make_entry(
            session, title="HIS发票打印机卡纸", symptom="收费处打印发票卡纸", category="打印"
        ).id
        or 0,
        "pacs": make_entry(
            session, title="PACS影像调阅很慢", symptom="看片子转圈", system="PACS", tags=["影像"]
        ).id
        or 0,
        "lis": make_entry(
            session, title="LIS条码打印空白", symptom="条码出纸空白", system="LIS", tags=["条码"]
        ).id
        or 0,
        "draft": make_entry(session, title="HIS草稿", status=EntryStatus.draft).id or 0,
    }
    for n in range(3):
        entries.link_ticket(
            session,
            entry_id=ids["his_print"],
            source="itsm",
            external_id=f"INC-{n}",
            kind=LinkKind.cited,
            actor="t",
        )
        session.commit()
    session.commit()
    return ids


def test_filters_alone_list_entries(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H
) -> None:
    ids = _seed(session)

    def listing(headers: H = viewer_headers, **params: object) -> dict:  # type: ignore[type-arg]
        r = client.get("/api/v1/entries", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    his = listing(system="HIS")
    assert his["count"] == 2 and {e["id"] for e in his["data"]} == {ids["ca"], ids["his_print"]}
    by_reuse = listing(system="HIS", sort="reuse")["data"]
    assert [e["id"] for e in by_reuse] == [ids["his_print"], ids["ca"]]
    recent = listing(system="HIS", sort="recent")["data"]
    assert [e["id"] for e in recent] == [ids["his_print"], ids["ca"]]  # cited → touched later
    assert [e["id"] for e in listing(category="打印")["data"]] == [ids["his_print"]]
    assert [e["id"] for e in listing(tag="影像")["data"]] == [ids["pacs"]]
    assert listing(department="心内科")["count"] == 4  # the draft stays hidden from viewers
    assert listing(editor_headers, system="HIS")["count"] == 3
    mine = listing(editor_headers, mine=True)
    assert mine["count"] == 0  # created by "test", not by this key
    r = client.get("/api/v1/entries", params={"sort": "random"}, headers=viewer_headers)
    assert r.status_code == 422


def test_search_total_counts_matches_not_the_kb(
    client: TestClient, session: Session, viewer_headers: H
) -> None:
    """Regression: every search said 找到 N 条 where N was the number of published entries."""
    ids = _seed(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]

    def search(**params: object) -> dict:  # type: ignore[type-arg]
        r = client.get("/api/v1/search", params=params, headers=viewer_headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    out = search(q="打印机卡纸")
    assert out["total"] == 1 and out["data"][0]["entry"]["id"] == ids["his_print"]
    assert search(q="条码")["total"] == 1
    assert search(q="量子计算机超导线圈失超")["total"] == 0
    # Visible to the caller: the two published HIS entries match, the HIS draft is not counted.
    assert search(q="HIS草稿", status="draft")["total"] == 0
    assert search(q="HIS草稿")["total"] == 2
