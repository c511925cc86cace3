"""Ticket intake over HTTP: single and bulk upsert, file import with limits."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kbsvc.config import Settings
from tests.factories import ticket_data

FIXTURE = Path(__file__).parents[1] / "fixtures" / "zhidian_export_gb18030.csv"


def test_single_and_list_upsert(client: TestClient, editor_headers: dict[str, str]) -> None:
    one = ticket_data(external_id="T-1")
    r = client.post("/api/v1/tickets", json=one, headers=editor_headers)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["data"][0]["tags"]) == (1, ["CA证书", "登录"])

    two = ticket_data(external_id="T-2", title="自助机不出凭条")
    r = client.post(
        "/api/v1/tickets", json=[{**one, "cause": "证书被吊销"}, two], headers=editor_headers
    )
    body = r.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (1, 1, 0)
    r = client.post("/api/v1/tickets", json=[two], headers=editor_headers)
    assert (r.json()["created"], r.json()["unchanged"]) == (0, 1)

    r = client.get("/api/v1/tickets", params={"source": "test"}, headers=editor_headers)
    assert r.json()["count"] == 2
    ticket_id = r.json()["data"][-1]["id"]
    assert (
        client.get(f"/api/v1/tickets/{ticket_id}", headers=editor_headers).json()["cause"]
        == "证书被吊销"
    )


def test_upsert_needs_editor(client: TestClient, viewer_headers: dict[str, str]) -> None:
    r = client.post("/api/v1/tickets", json=ticket_data(), headers=viewer_headers)
    assert r.status_code == 403 and "editor" in r.json()["message"]


def upload(
    client: TestClient,
    headers: dict[str, str],
    data: bytes,
    name: str = "export.csv",
    **params: object,
):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/tickets/import",
        files={"file": (name, data, "text/csv")},
        params=params,
        headers=headers,
    )


def test_import_file_twice(client: TestClient, editor_headers: dict[str, str]) -> None:
    r = upload(client, editor_headers, FIXTURE.read_bytes(), source="zd", capture="draft")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["updated"], body["skipped"], body["entries_created"]) == (
        5,
        0,
        3,
        5,
    )
    assert [e["line"] for e in body["errors"]] == [7, 12, 13]
    again = upload(client, editor_headers, FIXTURE.read_bytes(), source="zd", capture="draft")
    assert (again.json()["imported"], again.json()["updated"], again.json()["skipped"]) == (0, 0, 8)
    r = client.get("/api/v1/entries", headers=editor_headers)
    assert r.json()["count"] == 5


def test_import_strict_and_roles(
    client: TestClient, editor_headers: dict[str, str], reviewer_headers: dict[str, str]
) -> None:
    r = upload(client, editor_headers, FIXTURE.read_bytes(), strict="true")
    assert r.status_code == 422
    assert [e["line"] for e in r.json()["details"]["errors"]] == [7, 12, 13]
    assert client.get("/api/v1/tickets", headers=editor_headers).json()["count"] == 0

    r = upload(client, editor_headers, FIXTURE.read_bytes(), capture="published")
    assert r.status_code == 403
    r = upload(client, reviewer_headers, FIXTURE.read_bytes(), capture="published")
    assert r.status_code == 200 and r.json()["entries_created"] == 5

    r = upload(client, editor_headers, b"a,b\n1,2\n", map="symptom=c")
    assert r.status_code == 422 and "column 'c'" in r.json()["message"]


def test_import_limits(tmp_path: Path, engine, editor_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    from api.app import create_app

    settings = Settings(
        data_dir=tmp_path / "data",
        _env_file=None,  # type: ignore[call-arg]
        limits={"max_import_bytes": 1024, "max_import_rows": 3},
    )
    with TestClient(create_app(settings, db_engine=engine)) as client:
        r = upload(client, editor_headers, b"x" * 2000)
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        rows = "编号,标题\n" + "\n".join(f"{i},故障{i}" for i in range(4))
        r = upload(client, editor_headers, rows.encode())
        assert r.status_code == 413 and "more than 3 rows" in r.json()["message"]
