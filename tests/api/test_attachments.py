"""Attachments: upload → sniff → re-encode → shown, reviewed, behind the entry's policy."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from tests import attachments_data as files
from tests.factories import make_entry

H = dict[str, str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """No OCR thread: these tests are about storage (tests/api/test_attachments_ocr.py reads)."""
    s = Settings(data_dir=tmp_path / "data", database_url="", _env_file=None)  # type: ignore[call-arg]
    s.attachments.ocr.worker = False
    return s


def _url(entry_id: int | None) -> str:
    return f"/api/v1/entries/{entry_id}/attachments"


def _post(client: TestClient, entry_id: int | None, name: str, data: bytes, headers: H):  # type: ignore[no-untyped-def]
    return client.post(
        _url(entry_id), files={"file": (name, data, "application/octet-stream")}, headers=headers
    )


def test_upload_png_is_reencoded_without_metadata(
    client: TestClient, session: Session, editor_headers: H, viewer_headers: H
) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    raw = files.png(text_chunk="患者 张三 住院号 ZY2024001")
    r = _post(client, entry.id, "报错.png", raw, editor_headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["media_type"] == "image/png" and body["state"] == "live"
    assert body["width"] == 120 and body["height"] == 60
    assert "患者信息" in body["warning"] and body["pending_review"] is False
    stored = client.get(body["url"], headers=editor_headers)
    assert stored.headers["content-type"] == "image/png"
    assert stored.headers["x-content-type-options"] == "nosniff"
    assert b"ZY2024001" in raw and b"ZY2024001" not in stored.content
    assert Image.open(io.BytesIO(stored.content)).size == (120, 60)
    thumb = client.get(body["thumb_url"], headers=editor_headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"


def test_jpeg_exif_and_gps_are_gone(
    client: TestClient, session: Session, editor_headers: H
) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    raw = files.jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get(0x8825)
    r = _post(client, entry.id, "photo.JPG", raw, editor_headers)
    assert r.status_code == 201, r.text
    stored = client.get(r.json()["url"], headers=editor_headers).content
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and not img.getexif() and "exif" not in img.info
    assert b"HospitalPhone" not in stored


def test_pdf_is_accepted_and_active_pdf_refused(
    client: TestClient, session: Session, editor_headers: H
) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    r = _post(client, entry.id, "操作手册.pdf", files.pdf(2), editor_headers)
    assert r.status_code == 201, r.text
    assert r.json()["pages"] == 2 and r.json()["thumb_url"] is None
    assert r.json()["ocr_status"] == "none"
    bad = _post(client, entry.id, "a.pdf", files.pdf_with_javascript(), editor_headers)
    assert bad.status_code == 422 and "脚本" in bad.json()["message"]


def test_sniffing_refuses_wrong_polyglot_oversized_and_fake_files(
    client: TestClient, session: Session, editor_headers: H, settings
) -> None:  # type: ignore[no-untyped-def]
    entry = make_entry(session, status=EntryStatus.draft)
    cases = {
        "a PNG named .pdf": ("report.pdf", files.png(), 415, "PNG"),
        "a PNG with a PDF appended": ("screen.png", files.polyglot_png_pdf(), 422, "多重格式"),
        "a fake image": ("x.png", b"\x89PNG\r\n\x1a\n" + b"not really an image" * 10, 422, "解码"),
        "an HTML page named .png": ("x.png", b"<html><script>alert(1)</script>", 415, "PNG"),
        "an empty file": ("x.png", b"", 422, "空"),
    }
    for label, (name, data, status, words) in cases.items():
        r = _post(client, entry.id, name, data, editor_headers)
        assert r.status_code == status, (label, r.text)
        body = r.json()
        assert set(body) == {"code", "message", "details"}, label
        assert words in body["message"], (label, body)
    big = files.png(3000, 3000)
    settings.attachments.max_image_bytes = len(big) - 1
    r = _post(client, entry.id, "big.png", big, editor_headers)
    assert r.status_code == 413 and "MB" in r.json()["message"]
    listed = client.get(_url(entry.id), headers=editor_headers).json()
    assert listed["count"] == 0  # nothing refused was stored


def test_restricted_entry_attachments_are_404_for_outsiders(
    client: TestClient, session: Session, admin_headers: H, editor_headers: H
) -> None:
    secret = make_entry(session, restricted_departments=["输血科"], status=EntryStatus.draft)
    up = _post(client, secret.id, "s.png", files.png(), admin_headers).json()

    def key(role: Role, depts: list[str]) -> H:
        _row, k = auth_service.create_api_key(
            session, name=f"{role}{depts}", role=role, departments=depts
        )
        session.commit()
        return {"X-API-Key": k}

    outsider, insider = key(Role.viewer, ["信息科"]), key(Role.viewer, ["输血科"])
    # A draft: hidden from viewers, even of the right department.
    assert client.get(up["url"], headers=insider).status_code == 404
    for step in ("submit", "publish"):
        r = client.post(f"/api/v1/entries/{secret.id}/{step}", headers=admin_headers)
        assert r.status_code == 200, r.text
    paths = (_url(secret.id), up["url"], up["thumb_url"])
    for path in paths:
        assert client.get(path, headers=outsider).status_code == 404, path
        assert client.get(path, headers=editor_headers).status_code == 404, path  # no department
        assert client.get(path, headers=insider).status_code == 200, path
    assert (
        _post(client, secret.id, "t.png", files.png(color="red"), editor_headers).status_code == 404
    )


def test_attachment_on_published_entry_waits_in_revision_and_diff(
    client: TestClient,
    session: Session,
    editor_headers: H,
    reviewer_headers: H,
    viewer_headers: H,
) -> None:
    entry = make_entry(session)
    url = _url(entry.id)
    r = _post(client, entry.id, "错误截图.png", files.png(), editor_headers)
    assert r.status_code == 201 and r.json()["pending_review"] is True
    att = r.json()
    assert r.json()["state"] == "pending"
    # Readers see nothing yet; the bytes are hidden from them too.
    assert client.get(url, headers=viewer_headers).json()["count"] == 0
    assert client.get(att["url"], headers=viewer_headers).status_code == 404
    assert client.get(url, headers=editor_headers).json()["count"] == 1
    rev = client.get(f"/api/v1/entries/{entry.id}/revision", headers=reviewer_headers).json()
    change = [c for c in rev["changes"] if c["field"] == "attachments"]
    assert change == [
        {"field": "attachments", "before": [], "after": [f"错误截图.png（附件 #{att['id']}）"]}
    ]
    assert (
        client.post(f"/api/v1/entries/{entry.id}/submit", headers=editor_headers).status_code == 200
    )
    # The review page shows the same difference to a reviewer signed in on the web.
    auth_service.create_user(session, username="rv", role=Role.reviewer, password="s3cret-pass")
    session.commit()
    web = TestClient(client.app)
    login = {"username": "rv", "password": "s3cret-pass"}
    assert web.post("/api/v1/auth/login", json=login).is_success
    review = web.get("/review")
    assert review.status_code == 200 and '<th scope="row">附件</th>' in review.text
    assert f"错误截图.png（附件 #{att['id']}）" in review.text
    pub = client.post(f"/api/v1/entries/{entry.id}/publish", headers=reviewer_headers)
    assert pub.status_code == 200, pub.text
    live = client.get(url, headers=viewer_headers).json()
    assert [a["id"] for a in live["data"]] == [att["id"]] and live["data"][0]["state"] == "live"
    assert client.get(att["url"], headers=viewer_headers).status_code == 200

    # Removing it is a revision too: the reviewer sees it leave.
    d = client.delete(f"{url}/{att['id']}", headers=editor_headers)
    assert d.status_code == 200 and d.json() == {"pending_review": True}
    assert client.get(url, headers=viewer_headers).json()["count"] == 1
    rev = client.get(f"/api/v1/entries/{entry.id}/revision", headers=reviewer_headers).json()
    change = [c for c in rev["changes"] if c["field"] == "attachments"]
    assert change[0]["before"] and change[0]["after"] == []
    # Discarding the revision keeps the live attachment.
    client.delete(f"/api/v1/entries/{entry.id}/revision", headers=editor_headers)
    assert client.get(url, headers=viewer_headers).json()["count"] == 1


def test_viewer_cannot_upload_and_duplicates_conflict(
    client: TestClient, session: Session, editor_headers: H, viewer_headers: H
) -> None:
    entry = make_entry(session)
    assert _post(client, entry.id, "a.png", files.png(), viewer_headers).status_code == 403
    assert _post(client, entry.id, "a.png", files.png(), editor_headers).status_code == 201
    again = _post(client, entry.id, "b.png", files.png(), editor_headers)
    assert again.status_code == 409 and "已经附在" in again.json()["message"]
    assert _post(client, 99999, "a.png", files.png(), editor_headers).status_code == 404


def test_widget_key_sees_thumbnails_of_what_it_may_see(
    client: TestClient, session: Session, admin_headers: H, widget_headers: H
) -> None:
    shown = make_entry(session, status=EntryStatus.draft, title="可见条目")
    hidden = make_entry(session, status=EntryStatus.draft, title="草稿条目")
    a = _post(client, shown.id, "a.png", files.png(), admin_headers).json()
    b = _post(client, hidden.id, "b.png", files.png(color="red"), admin_headers).json()
    for step in ("submit", "publish"):
        client.post(f"/api/v1/entries/{shown.id}/{step}", headers=admin_headers)
    listed = client.get(_url(shown.id), headers=widget_headers).json()
    assert [x["id"] for x in listed["data"]] == [a["id"]]
    thumb = client.get(a["thumb_url"], headers=widget_headers)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/png"
    for path in (_url(hidden.id), b["url"], b["thumb_url"]):
        assert client.get(path, headers=widget_headers).status_code == 404, path
    assert (
        _post(client, shown.id, "c.png", files.png(color="blue"), widget_headers).status_code == 403
    )
