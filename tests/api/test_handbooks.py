"""Handbooks over HTTP: roles, CRUD, editions, exports and their limits."""

from __future__ import annotations

import io
from urllib.parse import unquote

import pytest
from docx import Document
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from kbsvc.handbooks.export import ExportLimiter
from kbsvc.handbooks.models import ExportFormat
from tests.kbsvc.handbooks.conftest import build_kb

H = dict[str, str]
BODY = {
    "title": "医院HIS系统常见故障分析与处理方法",
    "subtitle": "信息中心",
    "selection": {"systems": ["HIS"]},
    "grouping": "system_module",
    "max_entries": 50,
}


@pytest.fixture
def handbook_id(client: TestClient, session: Session, editor_headers: H) -> int:
    build_kb(session)
    r = client.post("/api/v1/handbooks", json=BODY, headers=editor_headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_roles(client: TestClient, viewer_headers: H, handbook_id: int) -> None:
    assert client.post("/api/v1/handbooks", json=BODY).status_code == 401
    r = client.post("/api/v1/handbooks", json=BODY, headers=viewer_headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert (
        client.post(f"/api/v1/handbooks/{handbook_id}/editions", headers=viewer_headers).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/handbooks/{handbook_id}", json={"title": "x"}, headers=viewer_headers
        ).status_code
        == 403
    )
    assert client.get("/api/v1/handbooks", headers=viewer_headers).status_code == 200


def test_crud(client: TestClient, viewer_headers: H, editor_headers: H, handbook_id: int) -> None:
    got = client.get(f"/api/v1/handbooks/{handbook_id}", headers=viewer_headers).json()
    assert got["title"] == BODY["title"] and got["selection"]["systems"] == ["HIS"]
    assert got["selection"]["status"] == "published" and got["editions"] == 0
    r = client.patch(
        f"/api/v1/handbooks/{handbook_id}",
        headers=editor_headers,
        json={"subtitle": "第二稿", "selection": {"systems": ["HIS", "LIS"]}},
    )
    assert r.status_code == 200 and r.json()["subtitle"] == "第二稿"
    listed = client.get("/api/v1/handbooks", headers=viewer_headers).json()
    assert listed["count"] == 1 and listed["data"][0]["selection"]["systems"] == ["HIS", "LIS"]
    assert client.get("/api/v1/handbooks/999", headers=viewer_headers).status_code == 404
    bad = client.post(
        "/api/v1/handbooks", headers=editor_headers, json={**BODY, "grouping": "by_mood"}
    )
    assert bad.status_code == 422


def test_editions(
    client: TestClient, viewer_headers: H, editor_headers: H, handbook_id: int
) -> None:
    url = f"/api/v1/handbooks/{handbook_id}/editions"
    first = client.post(url, headers=editor_headers)
    assert first.status_code == 201 and first.json()["number"] == 1
    assert first.json()["entry_count"] == 8 and len(first.json()["changes"]["added"]) == 8
    second = client.post(url, headers=editor_headers).json()
    assert second["number"] == 2 and second["changes"] == {
        "added": [],
        "updated": [],
        "removed": [],
    }
    listed = client.get(url, headers=viewer_headers).json()
    assert [e["number"] for e in listed["data"]] == [2, 1]


@pytest.mark.parametrize(
    ("fmt", "media", "magic"),
    [
        ("md", "text/markdown", b"# "),
        ("html", "text/html", b"<!DOCTYPE html>"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", b"PK"),
        ("pdf", "application/pdf", b"%PDF"),
    ],
)
def test_export_formats(
    client: TestClient, viewer_headers: H, handbook_id: int, fmt: str, media: str, magic: bytes
) -> None:
    r = client.get(
        f"/api/v1/handbooks/{handbook_id}/export", params={"format": fmt}, headers=viewer_headers
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(media) and r.content.startswith(magic)
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=")
    encoded = disposition.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == f"医院HIS系统常见故障分析与处理方法.{fmt}"
    assert disposition.encode("latin-1")  # header stays ASCII-safe
    if fmt == "pdf":
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
        assert "医院HIS系统常见故障分析与处理方法" in text and "第1章" in text
    if fmt == "docx":
        heads = [
            p.text
            for p in Document(io.BytesIO(r.content)).paragraphs
            if p.style.name == "Heading 1"
        ]
        assert heads[0] == "第1章 门诊医生站"
    if fmt == "html":
        assert "script-src" not in r.headers["content-security-policy"]
        assert "default-src 'none'" in r.headers["content-security-policy"]


def test_export_of_an_edition(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H, handbook_id: int
) -> None:
    client.post(f"/api/v1/handbooks/{handbook_id}/editions", headers=editor_headers)
    client.patch(
        f"/api/v1/handbooks/{handbook_id}", json={"title": "新标题"}, headers=editor_headers
    )
    url = f"/api/v1/handbooks/{handbook_id}/export"
    r = client.get(url, params={"format": "md", "edition": 1}, headers=viewer_headers)
    assert r.status_code == 200 and r.text.startswith("# 医院HIS系统常见故障分析与处理方法")
    assert "%E7%AC%AC1%E7%89%88.md" in r.headers["content-disposition"]  # …-第1版.md
    live = client.get(url, params={"format": "md"}, headers=viewer_headers)
    assert live.text.startswith("# 新标题")
    missing = client.get(url, params={"format": "md", "edition": 7}, headers=viewer_headers)
    assert missing.status_code == 404


def test_zero_entries_is_422_with_a_clear_message(
    client: TestClient, viewer_headers: H, editor_headers: H
) -> None:
    r = client.post(
        "/api/v1/handbooks",
        headers=editor_headers,
        json={**BODY, "selection": {"systems": ["不存在"]}},
    )
    hb = r.json()["id"]
    for path, method in (
        (f"/api/v1/handbooks/{hb}/export?format=pdf", "get"),
        (f"/api/v1/handbooks/{hb}/editions", "post"),
    ):
        headers = viewer_headers if method == "get" else editor_headers
        resp = client.request(method.upper(), path, headers=headers)
        assert resp.status_code == 422
        body = resp.json()
        assert body["code"] == "validation_failed"
        assert "没有符合条件" in body["message"] and "No published entries" in body["message"]


def test_concurrent_heavy_exports_are_bounded(
    client: TestClient,
    app,
    viewer_headers: H,
    handbook_id: int,  # type: ignore[no-untyped-def]
) -> None:
    from api.deps import get_export_limiter

    limiter = ExportLimiter(1)
    app.dependency_overrides[get_export_limiter] = lambda: limiter
    url = f"/api/v1/handbooks/{handbook_id}/export"
    with limiter.slot(ExportFormat.pdf):
        busy = client.get(url, params={"format": "docx"}, headers=viewer_headers)
        assert busy.status_code == 429 and busy.headers["retry-after"] == "5"
        assert "导出任务繁忙" in busy.json()["message"]
        # Light formats are not held back.
        assert client.get(url, params={"format": "md"}, headers=viewer_headers).status_code == 200
    assert client.get(url, params={"format": "docx"}, headers=viewer_headers).status_code == 200


def test_bad_format_is_422(client: TestClient, viewer_headers: H, handbook_id: int) -> None:
    r = client.get(
        f"/api/v1/handbooks/{handbook_id}/export", params={"format": "exe"}, headers=viewer_headers
    )
    assert r.status_code == 422


def test_query_selection_goes_through_the_real_search_engine(
    client: TestClient, session: Session, viewer_headers: H, editor_headers: H
) -> None:
    """Regression: a selection with a `query` called the SearchEngine as a function (500)."""
    ids = build_kb(session)
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    body = {**BODY, "selection": {"query": "腕带打印错位"}}
    hb = client.post("/api/v1/handbooks", json=body, headers=editor_headers).json()["id"]
    r = client.get(
        f"/api/v1/handbooks/{hb}/export", params={"format": "md"}, headers=viewer_headers
    )
    assert r.status_code == 200, r.text
    assert "住院护士站腕带打印错位" in r.text and "草稿条目不应出现" not in r.text
    pdf = client.get(f"/api/v1/handbooks/{hb}/export?format=pdf", headers=viewer_headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    edition = client.post(f"/api/v1/handbooks/{hb}/editions", headers=editor_headers)
    assert edition.status_code == 201, edition.text
    added = {e["id"] for e in edition.json()["changes"]["added"]}
    # The engine ranks, the selection keeps only its hits: the unrelated LIS QC entry is out.
    assert ids["wrist"] in added and ids["lis-qc"] not in added
