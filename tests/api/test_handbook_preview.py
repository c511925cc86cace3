"""The web preview of a handbook groups and orders exactly as its export does."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.kbsvc.handbooks.conftest import build_kb

PASSWORD = "s3cret-pass"


def _outline_of_preview(page: str) -> list[str]:
    heads = re.findall(
        r'<h2>(第\d+章)　([^<]+)</h2>|<h3 data-section="[\d.]+">([\d.]+)　([^<]+)</h3>'
        r'|<span class="muted">([\d.]+)</span> <a href="/entries/\d+">([^<]+)</a>',
        page,
    )
    return [html.unescape(" ".join(p for p in parts if p)) for parts in heads]


def _outline_of_markdown(md: str) -> list[str]:
    body = md.split("## 目录", 1)[1].split("\n# ", 1)[1]  # after the table of contents
    lines = re.findall(r"^(?:# (第\d+章 .+)|## ([\d.]+ .+)|### ([\d.]+ .+))$", "# " + body, re.M)
    return [next(p for p in parts if p) for parts in lines]


def test_preview_and_export_list_the_same_chapters_and_entries_in_order(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    build_kb(session)
    auth_service.create_user(session, username="editor", role=Role.editor, password=PASSWORD)
    session.commit()
    for grouping in ("system_module", "category", "cause_category"):
        body = {"title": "常见故障处理", "selection": {}, "grouping": grouping}
        r = client.post("/api/v1/handbooks", json=body, headers=editor_headers)
        assert r.status_code == 201, r.text
        hid = r.json()["id"]
        md = client.get(
            f"/api/v1/handbooks/{hid}/export", params={"format": "md"}, headers=editor_headers
        ).text
        login = {"username": "editor", "password": PASSWORD}
        assert client.post("/api/v1/auth/login", json=login).status_code == 200
        page = client.get(f"/handbooks/{hid}").text
        client.cookies.clear()
        exported = _outline_of_markdown(md)
        assert len([x for x in exported if x.count(".") == 2]) >= 8, exported  # entries
        assert _outline_of_preview(page) == exported, grouping
