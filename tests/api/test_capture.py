"""One-click capture: a prefilled draft with suggested tags, linked to its ticket."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_ticket


def test_capture_prefills_a_draft(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    ticket = make_ticket(session, title="", tags="")
    r = client.post(f"/api/v1/tickets/{ticket.id}/capture", headers=editor_headers)
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["status"] == "draft" and entry["version"] == 1
    # No ticket title: the first clause of the symptom, at most 40 characters.
    assert entry["title"] == "心内科门诊医生站登录时提示CA证书无效"
    for name in (
        "symptom",
        "cause",
        "solution",
        "workaround",
        "system",
        "module",
        "department",
        "category",
    ):
        assert entry[name] == getattr(ticket, name), name
    assert {"CA证书", "门诊医生站"} <= set(entry["suggested_tags"])
    assert len(entry["suggested_tags"]) <= 6 and "心内科" not in entry["suggested_tags"]
    assert sorted(entry["tags"]) == sorted(entry["suggested_tags"])
    assert entry["source_ticket"] == {
        "id": ticket.id,
        "source": "test",
        "external_id": ticket.external_id,
        "title": "",
    }

    detail = client.get(f"/api/v1/entries/{entry['id']}", headers=editor_headers).json()
    assert detail["links"] == [
        {"source": "test", "external_id": ticket.external_id, "kind": "source"}
    ]

    again = client.post(f"/api/v1/tickets/{ticket.id}/capture", headers=editor_headers)
    assert again.status_code == 200 and again.json()["id"] == entry["id"]
    assert client.get("/api/v1/entries", headers=editor_headers).json()["count"] == 1


def test_capture_keeps_ticket_tags_and_title(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    ticket = make_ticket(
        session,
        title="腕带打印机打印偏移",
        symptom="儿科病区护士站腕带打印内容偏移",
        cause="驱动纸张尺寸错误",
        solution="重新设置腕带纸张尺寸并校准",
        system="打印机",
        module="腕带打印",
        department="儿科",
        tags="腕带，驱动",
    )
    entry = client.post(f"/api/v1/tickets/{ticket.id}/capture", headers=editor_headers).json()
    assert entry["title"] == "腕带打印机打印偏移"
    assert entry["suggested_tags"][:2] == ["腕带", "驱动"]


def test_symptom_falls_back_to_description(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    long = (
        "自助机在缴费环节反复提示网络异常请稍后再试而且这个提示持续出现超过四十个字的情况，随后黑屏"
    )
    ticket = make_ticket(session, title="", symptom="", description=long)
    entry = client.post(f"/api/v1/tickets/{ticket.id}/capture", headers=editor_headers).json()
    assert entry["symptom"] == long and entry["title"] == long.split("，")[0][:40]


def test_capture_errors(
    client: TestClient,
    session: Session,
    viewer_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    ticket = make_ticket(session)
    r = client.post(f"/api/v1/tickets/{ticket.id}/capture", headers=viewer_headers)
    assert r.status_code == 403
    r = client.post("/api/v1/tickets/999999/capture", headers=editor_headers)
    assert r.status_code == 404 and r.json()["message"] == "ticket 999999 not found"
