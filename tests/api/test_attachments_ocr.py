"""OCR of attached screenshots (real rapidocr): masked, shown under the image, found by search."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from bench.screens import DIALOGS, render
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry

pytestmark = pytest.mark.slow  # a real OCR pass: ~15 s on two busy cores

H = dict[str, str]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The worker thread is off: the test drains the queue itself, so it knows when OCR ran."""
    s = Settings(data_dir=tmp_path / "data", database_url="", _env_file=None)  # type: ignore[call-arg]
    s.attachments.ocr.worker = False
    return s


def test_error_code_in_a_screenshot_finds_the_entry(
    client: TestClient,
    session: Session,
    admin_headers: H,
    viewer_headers: H,
) -> None:
    from kbsvc.auth import service as auth_service

    auth_service.create_user(session, username="ed", role=Role.editor, password="s3cret-pass")
    session.commit()
    entry = make_entry(
        session,
        status=EntryStatus.draft,
        title="挂号窗口弹出数据库错误",
        symptom="挂号时弹出错误框，无法继续",
        solution="重启数据库连接池服务",
        system="门诊挂号",
    )
    url = f"/api/v1/entries/{entry.id}/attachments"
    shot = render(DIALOGS[0], extra=("患者：张三 住院号 ZY2024001",))
    r = client.post(url, files={"file": ("报错.png", shot, "image/png")}, headers=admin_headers)
    assert r.status_code == 201 and r.json()["ocr_status"] == "pending"
    for step in ("submit", "publish"):
        assert client.post(f"/api/v1/entries/{entry.id}/{step}", headers=admin_headers).is_success
    engine = client.app.state.search_engine  # type: ignore[attr-defined]
    engine.sync()
    search = {"q": "HIS-ERR-1043"}
    before = client.get("/api/v1/search", params=search, headers=viewer_headers).json()
    assert entry.id not in [h["entry"]["id"] for h in before["data"]]

    worker = client.app.state.ocr_worker  # type: ignore[attr-defined]
    assert worker.drain() == 1
    att = client.get(url, headers=viewer_headers).json()["data"][0]
    assert att["ocr_status"] == "done"
    assert "HIS-ERR-1043" in att["ocr_text"] and "数据库连接超时" in att["ocr_text"]
    # Recognised text is masked like typed text; the flag tells editors the picture shows PII.
    assert "张三" not in att["ocr_text"] and "ZY2024001" not in att["ocr_text"]
    assert "【患者姓名】" in att["ocr_text"] and att["ocr_pii"] is True

    engine.sync()
    hits = client.get("/api/v1/search", params=search, headers=viewer_headers).json()["data"]
    assert [h["entry"]["id"] for h in hits][:1] == [entry.id]

    # The entry page shows the text under the image.
    login = {"username": "ed", "password": "s3cret-pass"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    page = client.get(f"/entries/{entry.id}")
    assert "图中文字" in page.text and "HIS-ERR-1043" in page.text and "张三" not in page.text
