"""Administration over HTTP: people (role, departments, disable, reset) and API keys."""

from __future__ import annotations

from fastapi.testclient import TestClient

H = dict[str, str]


def test_admin_manages_people(client: TestClient, admin_headers: H, reviewer_headers: H) -> None:
    body = {
        "username": "zhangsan",
        "display_name": "张三",
        "role": "editor",
        "departments": ["骨科"],
        "password": "initial-pass-1",
    }
    assert (
        client.post("/api/v1/admin/users", json=body, headers=reviewer_headers).status_code == 403
    )
    r = client.post("/api/v1/admin/users", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert client.post("/api/v1/admin/users", json=body, headers=admin_headers).status_code == 409
    login = {"username": "zhangsan", "password": "initial-pass-1"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    r = client.patch(
        f"/api/v1/admin/users/{uid}",
        json={"role": "reviewer", "departments": ["骨科", "内科"]},
        headers=admin_headers,
    )
    assert (r.json()["role"], r.json()["departments"]) == ("reviewer", ["骨科", "内科"])
    # The role change ended the old session: the cookie no longer works.
    assert client.get("/api/v1/auth/me").status_code == 401
    reset = client.post(f"/api/v1/admin/users/{uid}/reset-password", headers=admin_headers).json()
    assert reset["username"] == "zhangsan" and len(reset["password"]) >= 8
    assert client.post("/api/v1/auth/login", json=login).status_code == 401
    new_login = {"username": "zhangsan", "password": reset["password"]}
    assert client.post("/api/v1/auth/login", json=new_login).status_code == 200
    client.patch(f"/api/v1/admin/users/{uid}", json={"active": False}, headers=admin_headers)
    assert client.post("/api/v1/auth/login", json=new_login).status_code == 401
    users = client.get("/api/v1/admin/users", headers=admin_headers).json()
    assert [u["active"] for u in users if u["username"] == "zhangsan"] == [False]
    bad = client.patch(f"/api/v1/admin/users/{uid}", json={"role": "widget"}, headers=admin_headers)
    assert bad.status_code == 422


def test_admin_manages_widget_keys(client: TestClient, admin_headers: H) -> None:
    body = {"name": "门诊工单小组件", "role": "widget", "origins": []}
    assert (
        client.post("/api/v1/admin/api-keys", json=body, headers=admin_headers).status_code == 422
    )
    body["origins"] = ["https://ITSM.example.org"]
    r = client.post("/api/v1/admin/api-keys", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    key, kid = r.json()["key"], r.json()["id"]
    assert r.json()["origins"] == ["https://itsm.example.org"]
    widget = {"Authorization": f"Bearer {key}", "Origin": "https://itsm.example.org"}
    sug = client.post("/api/v1/suggest", json={"text": "打印机不出纸"}, headers=widget)
    assert sug.status_code in (200, 503)
    r = client.patch(
        f"/api/v1/admin/api-keys/{kid}",
        json={"origins": ["https://itsm2.example.org"]},
        headers=admin_headers,
    )
    assert r.json()["origins"] == ["https://itsm2.example.org"]
    assert client.post("/api/v1/suggest", json={"text": "x"}, headers=widget).status_code == 403
    listed = client.get("/api/v1/admin/api-keys", headers=admin_headers).json()
    assert "key" not in listed[0] and "key_hash" not in listed[0]
    r = client.post(f"/api/v1/admin/api-keys/{kid}/revoke", headers=admin_headers)
    assert r.json()["revoked"] is True
    assert client.post("/api/v1/suggest", json={"text": "x"}, headers=widget).status_code == 401
