"""Done-when scenario: capture → review → published → cited twice → edited twice → restored →
merged with a duplicate; history, links and counts add up."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.factories import make_entry

H = dict[str, str]


def test_done_when(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    """The issue's "done when", through the public API only (plus factory data)."""
    _row, key = auth_service.create_api_key(
        session, name="widget", role=Role.widget, origins=["http://127.0.0.1:8000"]
    )
    session.commit()
    widget = {"Authorization": f"Bearer {key}"}
    # An older entry about the same fault, already cited, tagged and voted on.
    dup = make_entry(
        session,
        title="护士站腕带打印机打印空白",
        symptom="腕带打印出来是空白",
        cause="碳带用完",
        solution="更换碳带",
        system="打印机",
        module="腕带打印",
        tags=["碳带"],
    )
    client.post(
        f"/api/v1/entries/{dup.id}/citations",
        json={"source": "itsm", "external_id": "INC-0900"},
        headers=widget,
    )
    client.post(
        f"/api/v1/entries/{dup.id}/feedback",
        json={"helpful": True, "source": "itsm", "external_id": "INC-0900"},
        headers=widget,
    )

    ticket = {
        "source": "itsm",
        "external_id": "INC-1001",
        "title": "12床腕带打印机打印空白",
        "symptom": "患者张三的腕带打出来是空白，家属电话13812345678",
        "cause": "碳带装反",
        "solution": "重新安装碳带并校准",
        "system": "打印机",
        "module": "腕带打印",
    }
    r = client.post("/api/v1/tickets", json=ticket, headers=editor_headers)
    stored = r.json()["data"][0]
    assert "张三" not in stored["symptom"] and "13812345678" not in stored["symptom"]
    r = client.post(f"/api/v1/tickets/{stored['id']}/capture", headers=editor_headers)
    assert r.status_code == 201, r.text
    draft = r.json()
    eid, url = draft["id"], f"/api/v1/entries/{draft['id']}"
    assert draft["status"] == "draft" and draft["title"] == "【床号】腕带打印机打印空白"
    assert draft["symptom"] == "患者【患者姓名】的腕带打出来是空白，家属电话【电话】"
    assert [d["id"] for d in draft["duplicates"]] == [dup.id]  # offered for reuse

    assert client.post(f"{url}/submit", headers=editor_headers).json()["status"] == "in_review"
    queue = client.get("/api/v1/review-queue", headers=reviewer_headers).json()
    assert [e["id"] for e in queue["data"]] == [eid]
    published = client.post(f"{url}/publish", headers=reviewer_headers).json()
    assert published["status"] == "published" and published["review_due_at"]

    for ext in ("INC-1002", "INC-1003", "INC-1002"):
        client.post(f"{url}/citations", json={"source": "itsm", "external_id": ext}, headers=widget)
    assert client.get(url, headers=editor_headers).json()["citation_count"] == 2

    v = published["version"]  # 3: created, submitted, published
    # Editing a published entry proposes a revision; readers keep the live text meanwhile.
    for cause in ("碳带装反导致不显色", "碳带装反（色带面朝外）"):
        r = client.patch(url, json={"cause": cause, "base_version": v}, headers=editor_headers)
        assert r.status_code == 200, r.text
        assert r.json()["pending_revision"] == {"version": 4, "status": "draft"}
        assert r.json()["cause"] == "碳带装反" and r.json()["version"] == v
    stale = client.patch(
        url, json={"cause": "旧页面的修改", "base_version": 2}, headers=editor_headers
    )
    assert stale.status_code == 409 and stale.json()["details"]["current_version"] == v == 3
    client.post(f"{url}/submit", headers=editor_headers)
    live = client.post(f"{url}/publish", headers=reviewer_headers).json()
    assert live["version"] == 4 and live["cause"] == "碳带装反（色带面朝外）"
    assert live["pending_revision"] is None
    restored = client.post(
        f"{url}/versions/3/restore", json={"base_version": 4}, headers=editor_headers
    ).json()
    assert restored["pending_revision"] == {"version": 5, "status": "in_review"}
    assert restored["version"] == 4 and restored["cause"] == "碳带装反（色带面朝外）"
    live = client.post(f"{url}/publish", headers=reviewer_headers).json()
    assert live["version"] == 5 and live["cause"] == "碳带装反"

    merged = client.post(
        f"{url}/merge", json={"from_id": dup.id, "append_solution": True}, headers=reviewer_headers
    )
    assert merged.status_code == 200, merged.text
    moved = merged.json()["moved"]
    assert (moved["links"], moved["feedback"], moved["flags"]) == (1, 1, 0)

    final = client.get(url, headers=editor_headers).json()
    assert final["version"] == 6 and final["status"] == "published"
    assert final["citation_count"] == 3 and final["helpful_count"] == 1
    assert set(final["tags"]) == set(draft["tags"]) | {"碳带"}
    assert "更换碳带" in final["solution"]
    assert sorted((lk["external_id"], lk["kind"]) for lk in final["links"]) == [
        ("INC-0900", "cited"),
        ("INC-1001", "source"),
        ("INC-1002", "cited"),
        ("INC-1003", "cited"),
    ]
    history = client.get(f"{url}/versions", headers=editor_headers).json()
    assert [h["note"].split(":")[0].split(" (")[0] for h in history["data"]] == [
        f"merged entry {dup.id} into this entry",
        "发布修订：恢复第 3 版",
        "发布修订",
        "published",
        "submitted for review",
        "created",
    ]
    old = client.get(f"/api/v1/entries/{dup.id}", headers=editor_headers).json()
    assert old["status"] == "archived" and old["merged_into_id"] == eid
    assert old["citation_count"] == 0 and old["links"] == []
    old_history = client.get(f"/api/v1/entries/{dup.id}/versions", headers=editor_headers).json()
    assert [h["note"] for h in old_history["data"]] == [f"merged into entry {eid}", "created"]
    cited = client.get("/api/v1/tickets/itsm/INC-0900/citations", headers=editor_headers).json()
    assert [c["entry_id"] for c in cited["data"]] == [eid]
    citing = client.get(f"{url}/citations", headers=editor_headers).json()
    assert citing["count"] == 3
