"""Threat: one character answers differently per database: NUL (U+0000) was stored on SQLite
and refused by PostgreSQL as 422 "a number … out of range" (or a lost search-log row).
Marked `postgres`: scripts/run-tests.sh runs it again against PostgreSQL, with the same asserts.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from api.middleware.bodyscan import json_has_nul
from kbsvc.entries.models import Entry
from tests.factories import make_entry

pytestmark = pytest.mark.postgres

NUL_JSON = [
    ("post", "/api/v1/entries", '{"title": "打印\\u0000机", "solution": "重启"}'),
    ("post", "/api/v1/entries", '{"title": "打印机", "tags": ["a\\u0000b"]}'),
    ("patch", "/api/v1/entries/{id}", '{"title": "改\\u0000名"}'),
    ("post", "/api/v1/tickets", '[{"source": "itsm", "external_id": "N\\u00001", "title": "x"}]'),
    ("post", "/api/v1/tickets", '{"source": "itsm", "external_id": "N2", "handler": "王\\u0000"}'),
    ("post", "/api/v1/suggest", '{"text": "打印\\u0000机"}'),
    (
        "post",
        "/api/v1/widget/capture",
        '{"source": "a", "external_id": "b", "solution": "\\u0000"}',
    ),
    ("post", "/api/v1/handbooks", '{"title": "手册\\u0000"}'),
    ("post", "/api/v1/vocabularies", '{"kind": "system", "value": "HIS\\u0000"}'),
    ("post", "/api/v1/entries/{id}/feedback", '{"helpful": false, "comment": "\\u0000"}'),
    ("post", "/api/v1/auth/login", '{"username": "ad\\u0000min", "password": "x"}'),
]
NUL_URLS = [
    "/api/v1/search?q=" + quote("打印\x00机"),
    "/api/v1/entries?tag=%00",
    "/api/v1/tickets?q=%00",
    "/api/v1/tags?q=a%00",
    "/api/v1/tags/a%00b",
    "/api/v1/entries?system=HIS%00",
]


def test_nul_is_refused_the_same_on_every_database(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    entry = make_entry(session, title="打印机脱机")
    answers = []
    for method, path, body in NUL_JSON:
        r = client.request(
            method.upper(),
            path.replace("{id}", str(entry.id)),
            content=body.encode(),
            headers={**admin_headers, "Content-Type": "application/json"},
        )
        answers.append((path, r.status_code, r.json().get("code")))
    for url in NUL_URLS:
        r = client.get(url, headers=admin_headers)
        answers.append((url, r.status_code, r.json().get("code")))
    form = client.post(
        "/api/v1/entries",
        content=b"title=a%00b",
        headers={**admin_headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    answers.append(("form", form.status_code, form.json().get("code")))
    wrong = [a for a in answers if a[1:] != (422, "validation_failed")]
    assert not wrong, wrong
    r = client.get("/api/v1/search?q=%00", headers=admin_headers)
    assert "空字符" in r.json()["message"]
    session.expire_all()
    titles = session.execute(select(col(Entry.title))).scalars().all()
    assert titles == ["打印机脱机"]
    # Text that merely mentions the escape is not a NUL, and is stored as written.
    r = client.post(
        "/api/v1/entries",
        content='{"title": "路径 C:\\\\u0000 与 \\\\\\\\u0000"}'.encode(),
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "路径 C:\\u0000 与 \\\\u0000"


def test_the_json_scan_tells_an_escape_from_an_escaped_backslash() -> None:
    assert json_has_nul(b'{"a": "\\u0000"}')
    assert json_has_nul(b'{"a": "\\\\\\u0000"}')  # \\ then \u0000
    assert not json_has_nul(b'{"a": "\\\\u0000"}')  # \\ then u0000
    assert not json_has_nul(b'{"a": "u0000 \\u0001"}')
