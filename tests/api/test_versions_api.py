"""Versions over HTTP: history, diff, restore, optimistic concurrency."""

from __future__ import annotations

from fastapi.testclient import TestClient

H = dict[str, str]


def _create(client: TestClient, headers: H) -> dict:  # type: ignore[type-arg]
    body = {
        "title": "LIS条码打印机打印空白",
        "symptom": "检验科条码打印机出纸但空白",
        "cause": "碳带装反",
        "solution": "重新安装碳带",
        "system": "LIS",
        "tags": ["条码"],
    }
    r = client.post("/api/v1/entries", json=body, headers=headers)
    assert r.status_code == 201
    return r.json()  # type: ignore[no-any-return]


def test_history_diff_and_restore(client: TestClient, editor_headers: H) -> None:
    entry = _create(client, editor_headers)
    url = f"/api/v1/entries/{entry['id']}"
    r = client.patch(
        url,
        json={
            "cause": "碳带型号不匹配",
            "tags": ["条码", "碳带"],
            "base_version": 1,
            "note": "补充原因",
        },
        headers=editor_headers,
    )
    assert r.json()["version"] == 2
    r = client.patch(
        url, json={"solution": "更换为树脂碳带"}, headers={**editor_headers, "If-Match": '"2"'}
    )
    assert r.status_code == 200 and r.json()["version"] == 3

    history = client.get(f"{url}/versions", headers=editor_headers).json()
    assert [v["version"] for v in history["data"]] == [3, 2, 1]
    assert [v["note"] for v in history["data"]] == ["edited", "补充原因", "created"]
    assert all(v["author"] == "apikey:test-editor" for v in history["data"])
    v1 = client.get(f"{url}/versions/1", headers=editor_headers).json()
    assert v1["snapshot"]["cause"] == "碳带装反" and v1["snapshot"]["tags"] == ["条码"]
    assert v1["snapshot"]["status"] == "draft"

    diff = client.get(f"{url}/diff", params={"from": 1, "to": 3}, headers=editor_headers).json()
    assert diff["changes"] == [
        {"field": "cause", "before": "碳带装反", "after": "碳带型号不匹配"},
        {"field": "solution", "before": "重新安装碳带", "after": "更换为树脂碳带"},
        {"field": "tags", "before": ["条码"], "after": ["条码", "碳带"]},
    ]
    r = client.post(f"{url}/versions/1/restore", json={"base_version": 3}, headers=editor_headers)
    assert r.status_code == 200, r.text
    restored = r.json()
    assert restored["version"] == 4 and restored["cause"] == "碳带装反"
    assert restored["solution"] == "重新安装碳带" and restored["tags"] == ["条码"]
    diff = client.get(f"{url}/diff", params={"from": 1, "to": 4}, headers=editor_headers).json()
    assert diff["changes"] == []
    latest = client.get(f"{url}/versions", headers=editor_headers).json()["data"][0]
    assert latest == {**latest, "version": 4, "note": "restored from version 1"}


def test_missing_version_and_bad_if_match(client: TestClient, editor_headers: H) -> None:
    entry = _create(client, editor_headers)
    url = f"/api/v1/entries/{entry['id']}"
    assert client.get(f"{url}/versions/9", headers=editor_headers).status_code == 404
    r = client.get(f"{url}/diff", params={"from": 1, "to": 9}, headers=editor_headers)
    assert r.status_code == 404
    r = client.patch(url, json={"cause": "x"}, headers=editor_headers)
    assert r.status_code == 422 and "base_version" in r.json()["message"]
    r = client.patch(url, json={"cause": "x"}, headers={**editor_headers, "If-Match": "abc"})
    assert r.status_code == 422
    assert client.get(url, headers=editor_headers).headers["etag"] == '"1"'


def test_stale_update_is_409_and_writes_nothing(client: TestClient, editor_headers: H) -> None:
    entry = _create(client, editor_headers)
    url = f"/api/v1/entries/{entry['id']}"
    assert (
        client.patch(
            url, json={"cause": "甲的修改", "base_version": 1}, headers=editor_headers
        ).status_code
        == 200
    )
    r = client.patch(
        url, json={"cause": "乙的修改", "tags": ["乙"], "base_version": 1}, headers=editor_headers
    )
    assert r.status_code == 409
    assert r.json()["details"] == {"entry_id": entry["id"], "base_version": 1, "current_version": 2}
    now = client.get(url, headers=editor_headers).json()
    assert now["cause"] == "甲的修改" and now["tags"] == ["条码"] and now["version"] == 2
    assert client.get(f"{url}/versions", headers=editor_headers).json()["count"] == 2
    r = client.post(f"{url}/versions/1/restore", json={"base_version": 1}, headers=editor_headers)
    assert r.status_code == 409
