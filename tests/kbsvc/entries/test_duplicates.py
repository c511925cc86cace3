"""Duplicate detection by character bigrams, same system first."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.entries.duplicates import find_duplicates
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry


def test_finds_same_fault_with_reasons(session: Session) -> None:
    ca = make_entry(session)  # 门诊医生站CA证书过期导致无法登录 (HIS)
    make_entry(
        session,
        title="PACS影像调阅缓慢",
        symptom="放射科打开影像很慢",
        cause="存储IO高",
        system="PACS",
        module="影像调阅",
    )
    make_entry(session, title="门诊医生站CA证书过期无法登录（草稿）", status=EntryStatus.draft)
    found = find_duplicates(
        session,
        {
            "title": "医生站登录提示CA证书过期",
            "symptom": "门诊医生登录时提示证书无效",
            "cause": "证书过期",
            "system": "HIS",
            "module": "门诊医生站",
        },
        principal=SYSTEM,
    )
    assert [d.id for d in found] == [ca.id]  # drafts and unrelated faults are not offered
    top = found[0]
    assert 0.5 < top.score <= 1.0
    assert "同一系统：HIS" in top.reasons and "同一模块：门诊医生站" in top.reasons
    assert any(r.startswith("标题相似度") for r in top.reasons)


def test_same_system_ranks_first_and_exclusions(session: Session) -> None:
    his = make_entry(session, title="自助机打印发票失败", symptom="发票打印失败", system="HIS")
    kiosk = make_entry(session, title="自助机打印发票失败", symptom="发票打印失败", system="自助机")
    fields = {"title": "自助机发票打印失败", "symptom": "打印发票失败", "system": "自助机"}
    found = find_duplicates(session, fields, principal=SYSTEM)
    assert [d.id for d in found] == [kiosk.id, his.id]
    assert found[0].score > found[1].score
    others = find_duplicates(session, fields, exclude_id=kiosk.id, principal=SYSTEM)
    assert [d.id for d in others] == [his.id]
    assert find_duplicates(session, fields, k=1, principal=SYSTEM)[0].id == kiosk.id
    assert find_duplicates(session, {"title": "", "symptom": ""}, principal=SYSTEM) == []


def test_create_response_and_duplicates_route(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    existing = make_entry(session)
    body = {
        "title": "门诊医生站CA证书过期无法登录",
        "symptom": "登录提示证书无效",
        "system": "HIS",
        "module": "门诊医生站",
    }
    r = client.post("/api/v1/entries", json=body, headers=editor_headers)
    assert r.status_code == 201
    created = r.json()
    assert created["title"] == body["title"] and created["status"] == "draft"
    assert [d["id"] for d in created["duplicates"]] == [existing.id]
    assert created["duplicates"][0]["reasons"]
    r = client.get(f"/api/v1/entries/{created['id']}/duplicates", headers=editor_headers)
    assert [d["id"] for d in r.json()] == [existing.id]
    r = client.get(f"/api/v1/entries/{existing.id}/duplicates", headers=editor_headers)
    assert r.json() == []  # the new one is a draft: not offered for reuse yet
