"""Userscript generation: origin binding, field-map checks, the CLI and the admin API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from kbsvc import db
from kbsvc.auth.models import ApiKey
from kbsvc.config import Settings
from kbsvc.exceptions import ValidationFailed
from kbsvc.widget.userscript import check_fields, origin_of
from tests.cli import run_kbsvc_sqlite

FIELDS = {"ticket_id": "#no", "title": "#subject", "description": ".desc textarea"}


def test_origin_of_a_match_pattern() -> None:
    assert origin_of("https://HD.example.cn/ticket/*") == "https://hd.example.cn"
    assert origin_of("http://10.1.2.3:8080/itsm/view?id=*") == "http://10.1.2.3:8080"
    for bad in (
        "https://*.example.cn/*",
        "*://hd.example.cn/*",
        "ftp://hd.example.cn/*",
        "https://hd.example.cn",
        "https://hd.example.cn/*\n// @grant GM_xmlhttpRequest",
    ):
        with pytest.raises(ValidationFailed):
            origin_of(bad)


def test_field_map_is_checked() -> None:
    assert check_fields({"title": " #t "}) == {"title": "#t"}
    for bad in ({"titel": "#t"}, {"title": ""}, {"system": "#s"}, {"title": "#t\n#u"}):
        with pytest.raises(ValidationFailed):
            check_fields(bad)  # type: ignore[arg-type]


def test_cli_prints_a_userscript_with_an_origin_bound_key(tmp_path: Path) -> None:
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps(FIELDS), encoding="utf-8")
    done = run_kbsvc_sqlite(
        tmp_path, "widget", "userscript", "--match", "https://hd.example.cn/ticket/*",
        "--fields", str(fields), "--source", "vendor-hd", "--kb-url", "https://kb.example.cn",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    script = done.stdout
    assert script.startswith("// ==UserScript==")
    assert "// @match        https://hd.example.cn/ticket/*" in script
    assert "// @grant        none" in script
    assert 'var KB = "https://kb.example.cn";' in script
    assert json.dumps(FIELDS, ensure_ascii=False) in script
    assert "bound to https://hd.example.cn" in done.stderr
    key = script.split('var KEY = "', 1)[1].split('"', 1)[0]
    engine = db.make_engine(Settings(data_dir=tmp_path, database_url="", _env_file=None))  # type: ignore[call-arg]
    with Session(engine) as s:
        row = s.execute(select(ApiKey).where(ApiKey.prefix == key[:10])).scalar_one()
    engine.dispose()
    assert row.role == "widget" and row.origins == ["https://hd.example.cn"]


def test_admin_api_makes_userscripts(
    client: TestClient, admin_headers: dict[str, str], editor_headers: dict[str, str]
) -> None:
    body = {"match": "https://hd.example.cn/t/*", "fields": FIELDS, "source": "vendor-hd"}
    assert (
        client.post("/api/v1/widget/userscripts", json=body, headers=editor_headers).status_code
        == 403
    )
    r = client.post("/api/v1/widget/userscripts", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert r.json()["origin"] == "https://hd.example.cn"
    assert "// @match        https://hd.example.cn/t/*" in r.json()["userscript"]
    bad = client.post(
        "/api/v1/widget/userscripts", json={**body, "match": "https://*/t/*"}, headers=admin_headers
    )
    assert bad.status_code == 422 and "concrete host" in bad.json()["message"]
