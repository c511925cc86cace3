"""存为知识 over the API: ticket upserted, one masked draft linked to it, widget keys limited."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.config import KeyRate, Settings
from kbsvc.entries.models import Entry
from kbsvc.tickets.models import Ticket
from tests.factories import make_entry, make_ticket

ORIGIN = {"Origin": "http://127.0.0.1:8000"}


def page_fields(**over: Any) -> dict[str, Any]:
    data = {
        "source": "his-helpdesk",
        "external_id": "HD-20250314-001",
        "title": "检验科LIS条码打印空白",
        "description": "检验科条码打印机打印空白，患者李四住院号ZY123456的标本无法贴码",
        "cause": "碳带用完",
        "solution": "更换碳带并校准打印机，联系电话13900001111",
        "workaround": "手写标签",
        "system": "LIS",
        "department": "检验科",
    }
    data.update(over)
    return data


def test_widget_key_saves_one_draft_and_updates_it(
    client: TestClient,
    session: Session,
    widget_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    headers = {**widget_headers, **ORIGIN}
    r = client.post("/api/v1/widget/capture", json=page_fields(), headers=headers)
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["outcome"] == "created" and first["status"] == "draft" and first["pii_masked"] >= 2
    entry = client.get(f"/api/v1/entries/{first['entry_id']}", headers=editor_headers).json()
    assert entry["status"] == "draft" and entry["title"] == "检验科LIS条码打印空白"
    assert "13900001111" not in entry["solution"] and "ZY123456" not in entry["symptom"]
    assert "李四" not in entry["symptom"]
    assert {"source": "his-helpdesk", "external_id": "HD-20250314-001", "kind": "source"} in entry[
        "links"
    ]
    assert entry["tags"]  # suggested tags, as one-click capture does

    again = client.post(
        "/api/v1/widget/capture", json=page_fields(solution="更换碳带，重新校准"), headers=headers
    )
    assert again.status_code == 200 and again.json()["entry_id"] == first["entry_id"]
    assert again.json()["outcome"] == "updated"
    assert session.execute(select(func.count()).select_from(Entry)).scalar_one() == 1
    assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == 1
    session.expire_all()
    assert session.get(Entry, first["entry_id"]).solution == "更换碳带，重新校准"  # type: ignore[union-attr]


def test_page_fields_do_not_blank_an_imported_ticket(
    client: TestClient, session: Session, widget_headers: dict[str, str]
) -> None:
    ticket = make_ticket(session, source="his-helpdesk", external_id="HD-9", module="条码")
    body = {"source": "his-helpdesk", "external_id": "HD-9", "solution": "重启打印服务"}
    r = client.post("/api/v1/widget/capture", json=body, headers={**widget_headers, **ORIGIN})
    assert r.status_code == 201, r.text
    session.expire_all()
    stored = session.get(Ticket, ticket.id)
    assert stored is not None and stored.module == "条码" and stored.handler == ticket.handler
    assert stored.title == ticket.title and stored.solution == "重启打印服务"


def test_no_solution_is_refused(client: TestClient, widget_headers: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/widget/capture",
        json=page_fields(solution=""),
        headers={**widget_headers, **ORIGIN},
    )
    assert r.status_code == 422 and "处理方法" in r.json()["message"]


def test_widget_key_can_do_nothing_else_and_viewers_only_read(
    client: TestClient,
    session: Session,
    widget_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    headers = {**widget_headers, **ORIGIN}
    assert (
        client.post(
            "/api/v1/widget/capture", json=page_fields(), headers=viewer_headers
        ).status_code
        == 403
    )
    entry = make_entry(session)
    assert (
        client.post(
            "/api/v1/entries", json={"title": "x", "solution": "y"}, headers=headers
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/entries/{entry.id}/publish", headers=headers).status_code == 403
    assert client.post("/api/v1/tickets", json=page_fields(), headers=headers).status_code == 403
    elsewhere = {**widget_headers, "Origin": "http://evil.example"}
    assert (
        client.post("/api/v1/widget/capture", json=page_fields(), headers=elsewhere).status_code
        == 403
    )


def test_widget_reads_the_tickets_citations_with_the_fix(
    client: TestClient, session: Session, widget_headers: dict[str, str]
) -> None:
    entry = make_entry(session, workaround="先用临时账号")
    hidden = make_entry(session, title="草稿条目", status="draft")
    headers = {**widget_headers, **ORIGIN}
    for eid in (entry.id, hidden.id):
        client.post(
            f"/api/v1/entries/{eid}/citations",
            json={"source": "his-helpdesk", "external_id": "HD-1"},
            headers=headers,
        )
    r = client.get("/api/v1/tickets/his-helpdesk/HD-1/citations", headers=headers)
    assert r.status_code == 200, r.text
    assert [(c["entry_id"], c["solution"], c["workaround"]) for c in r.json()["data"]] == [
        (entry.id, "更新CA证书后重新登录", "先用临时账号")
    ]


def test_widget_capture_is_rate_limited_by_default(
    settings: Settings, engine: Engine, widget_headers: dict[str, str]
) -> None:
    from api.app import create_app

    assert "/api/v1/widget" in settings.rate_limit.paths  # the shipped default
    settings.rate_limit.keys["widget"] = KeyRate(per_minute=6, burst=2)
    headers = {**widget_headers, **ORIGIN}
    with TestClient(create_app(settings, db_engine=engine)) as client:
        codes = [
            client.post("/api/v1/widget/capture", json=page_fields(), headers=headers).status_code
            for _ in range(3)
        ]
    assert codes == [201, 200, 429]
