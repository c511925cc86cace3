"""Exchange files over HTTP: admins only; import twice → no duplicates; bad files → JSON 4xx."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_entry


def test_admin_round_trip_between_two_sites(
    client: TestClient,
    session: Session,
    admin_headers: dict[str, str],
    editor_headers: dict[str, str],
) -> None:
    make_entry(session, title="自助机不出条", system="自助机")
    assert client.get("/api/v1/exchange/export", headers=editor_headers).status_code == 403
    r = client.get("/api/v1/exchange/export", params={"system": "自助机"}, headers=admin_headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "kbsvc-exchange-" in r.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert set(names) == {"entries.jsonl", "vocabulary.jsonl", "manifest.json"}
    # Own file: refused (it would only re-import our own knowledge).
    own = client.post(
        "/api/v1/exchange/import", files={"file": ("kb.zip", r.content)}, headers=admin_headers
    )
    assert own.status_code == 422 and own.json()["code"] == "validation_failed"


def test_import_is_idempotent_over_http(client: TestClient, admin_headers: dict[str, str]) -> None:
    import json

    line = {
        "provenance": {
            "site_id": "sister-1",
            "site_name": "市第二人民医院",
            "entry_id": 5,
            "version": 2,
        },
        "title": "输液泵联网中断",
        "solution": "重启网关",
        "system": "护理",
        "tags": ["输液泵"],
    }
    body = (json.dumps(line, ensure_ascii=False) + "\n").encode()
    manifest = {
        "site_id": "sister-1",
        "site_name": "市第二人民医院",
        "exported_at": "2026-11-30T08:00:00Z",
        "kbsvc_version": "other-tool",
        "entries": 1,
        "vocabulary": 0,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:  # hand-made, as another tool would write it
        zf.writestr("manifest.json", json.dumps(manifest))
        zf.writestr("entries.jsonl", body)
    for expected in ({"created": 1, "unchanged": 0}, {"created": 0, "unchanged": 1}):
        r = client.post(
            "/api/v1/exchange/import",
            files={"file": ("x.zip", buf.getvalue())},
            headers=admin_headers,
        )
        assert r.status_code == 200, r.text
        assert {k: r.json()[k] for k in expected} == expected
    drafts = client.get("/api/v1/entries", params={"status": "draft"}, headers=admin_headers).json()
    assert [e["title"] for e in drafts["data"]] == ["输液泵联网中断"]
    bad = client.post(
        "/api/v1/exchange/import", files={"file": ("x.zip", b"not a zip")}, headers=admin_headers
    )
    assert bad.status_code == 422 and "zip" in bad.json()["message"]
