"""Suggest and search over HTTP: contract, filters, pagination, errors, sync."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, LinkKind
from tests.factories import make_entry


def _seed(session: Session) -> dict[str, int]:
    ids = {
        "ca": make_entry(session).id,
        "pacs": make_entry(
            session,
            title="PACS影像调阅很慢",
            symptom="放射科看片子一直转圈",
            system="PACS",
            department="放射科",
            tags=["影像"],
        ).id,
        "printer": make_entry(
            session,
            title="收费处发票打印机卡纸",
            symptom="打印发票时卡纸 <script>",
            system="打印机",
            department="收费处",
            tags=["打印机"],
        ).id,
        "draft": make_entry(
            session,
            title="PACS影像草稿",
            symptom="片子打不开",
            system="PACS",
            status=EntryStatus.draft,
        ).id,
    }
    entries.link_ticket(
        session,
        entry_id=ids["ca"] or 0,
        source="itsm",
        external_id="GD-1",
        kind=LinkKind.source,
        actor="t",
    )
    session.commit()
    return ids  # type: ignore[return-value]


def test_suggest_contract(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    ids = _seed(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    body = {"text": "医生站登不上，提示证书无效", "title": "", "system": "HIS", "k": 3}
    r = client.post("/api/v1/suggest", json=body, headers=viewer_headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert set(out) == {"data", "took_ms", "confident", "log_id", "channels", "refinable"}
    assert out["took_ms"] >= 0 and out["channels"][0] == "lexical"
    hit = out["data"][0]
    assert hit["entry"]["id"] == ids["ca"]
    assert set(hit["entry"]) == {
        "id",
        "title",
        "symptom",
        "cause",
        "solution",
        "workaround",
        "system",
        "department",
        "tags",
        "status",
    }
    assert hit["confidence"] in {"high", "medium", "low"} and 0 < hit["score"] <= 1
    assert hit["reasons"][0]["channel"] == "lexical" and "无法登录" in hit["reasons"][0]["terms"]
    assert "<mark>" in hit["snippet"]
    assert hit["sources"] == [{"source": "itsm", "external_id": "GD-1", "kind": "source"}]
    assert all(h["entry"]["id"] != ids["draft"] for h in out["data"])


def test_search_filters_pagination_and_escaping(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    ids = _seed(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]

    def search(**params: object) -> dict:  # type: ignore[type-arg]
        r = client.get("/api/v1/search", params=params, headers=viewer_headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    out = search(q="片子")
    assert [h["entry"]["id"] for h in out["data"]] == [ids["pacs"]] and out["total"] == 1
    # Drafts are for editors (auth.policy): a viewer asking for them gets none.
    assert search(q="片子", status="draft")["data"] == []
    editor = auth_service.create_api_key(session, name="ed", role=Role.editor)[1]
    session.commit()
    r = client.get(
        "/api/v1/search", params={"q": "片子", "status": "draft"}, headers={"X-API-Key": editor}
    )
    assert {h["entry"]["id"] for h in r.json()["data"]} == {ids["draft"]}
    assert search(q="片子", system="HIS")["data"] == []
    assert [h["entry"]["id"] for h in search(q="卡纸", tag="打印机")["data"]] == [ids["printer"]]
    assert search(q="卡纸", department="放射科")["total"] == 0
    printer = search(q="打印发票时卡纸")["data"][0]
    assert "<script>" not in printer["snippet"] and "&lt;script&gt;" in printer["snippet"]
    page1, page2 = search(q="PACS 打印机 证书", k=1), search(q="PACS 打印机 证书", k=1, offset=1)
    assert page1["total"] == page2["total"] >= 2
    assert page1["data"][0]["entry"]["id"] != page2["data"][0]["entry"]["id"]


def test_errors_and_long_text(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    _seed(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    for body in ({"text": "   "}, {"text": "", "title": "\n"}, {}):
        r = client.post("/api/v1/suggest", json=body, headers=viewer_headers)
        assert r.status_code == 422 and r.json()["message"]
    r = client.get("/api/v1/search", params={"q": " "}, headers=viewer_headers)
    assert r.status_code == 422 and "empty" in r.json()["message"]
    r = client.post("/api/v1/suggest", json={"text": "x", "k": 51}, headers=viewer_headers)
    assert r.status_code == 422
    long_text = "PACS片子打不开。" * 5000
    r = client.post("/api/v1/suggest", json={"text": long_text}, headers=viewer_headers)
    assert r.status_code == 200 and r.json()["data"]
    assert client.get("/api/v1/search", params={"q": "x"}).status_code == 401


def test_widget_key_may_suggest_but_not_search(client: TestClient, session: Session) -> None:
    _seed(session)
    _row, key = auth_service.create_api_key(
        session, name="w", role=Role.widget, origins=["http://127.0.0.1:8000"]
    )
    session.commit()
    headers = {"Authorization": f"Bearer {key}"}
    assert (
        client.post("/api/v1/suggest", json={"text": "打印机卡纸"}, headers=headers).status_code
        == 200
    )
    assert client.get("/api/v1/search", params={"q": "打印机"}, headers=headers).status_code == 403


def test_published_entry_is_found_after_sync(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    r = client.get("/api/v1/search", params={"q": "输液泵"}, headers=editor_headers)
    assert r.json()["data"] == [] and r.json()["confident"] is False
    make_entry(session, title="输液泵联网数据不上传", symptom="护士站看不到输液泵数据")
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    r = client.get("/api/v1/search", params={"q": "输液泵数据"}, headers=editor_headers)
    assert r.json()["data"][0]["entry"]["title"] == "输液泵联网数据不上传"


def test_readiness_reports_search(client: TestClient) -> None:
    body = client.get("/readyz").json()
    assert body["checks"]["search"] == "ok"
    conf = body["search"]["confidence"]
    # A KB with hardly any linked tickets runs on the shipped prior, and says so.
    assert conf["source"] == "prior" and 0 < conf["medium"] <= conf["high"] < 1
    # `auto` has not chosen from this KB's evidence yet, and says so.
    auto = body["search"]["auto"]
    assert auto["auto"] is True and auto["backend"] == "lsa" and "kbsvc reindex" in auto["why"]


def test_suggest_and_search_are_logged(
    client: TestClient, session: Session, viewer_headers: dict[str, str]
) -> None:
    from sqlalchemy import select

    from kbsvc.analytics.models import SearchLog

    _seed(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    r = client.post(
        "/api/v1/suggest", json={"text": "片子打不开 患者张三 13812345678"}, headers=viewer_headers
    )
    log_id = r.json()["log_id"]
    client.get("/api/v1/search", params={"q": "手术室无影灯不亮"}, headers=viewer_headers)
    client.app.state.search_log.flush()  # type: ignore[attr-defined]
    rows = {row.id: row for row in session.execute(select(SearchLog)).scalars()}
    assert log_id in rows and rows[log_id].kind == "suggest"
    assert "13812345678" not in rows[log_id].query  # PII scrubbed before it is stored
    assert rows[log_id].caller.startswith("apikey:")
    assert {r.kind for r in rows.values()} == {"suggest", "search"}


def test_site_abbreviation_added_over_http_is_used_by_suggest(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    reviewer_headers: dict[str, str],
) -> None:
    entry = make_entry(
        session, title="医技科室电脑蓝屏", symptom="医技楼电脑开机蓝屏", system="终端"
    )
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    body = {"text": "yj电脑蓝屏", "k": 3}
    term = {"kind": "abbreviation", "value": "医技", "aliases": ["yj"]}
    bad = client.post(
        "/api/v1/vocabularies", json={**term, "aliases": ["医技"]}, headers=reviewer_headers
    )
    assert bad.status_code == 422 and bad.json()["code"] == "validation_failed"
    assert (
        client.post("/api/v1/vocabularies", json=term, headers=reviewer_headers).status_code == 201
    )
    from kbsvc.search import shorthand

    shorthand._seen.clear()  # noqa: SLF001 - as if the periodic check had come round
    hit = client.post("/api/v1/suggest", json=body, headers=viewer_headers).json()["data"][0]
    assert hit["entry"]["id"] == entry.id
    assert "医技" in hit["reasons"][0]["terms"]
