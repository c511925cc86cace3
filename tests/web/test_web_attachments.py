"""Attachments in chromium: choose, paste and capture screenshots; a refused file says why."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import col

from kbsvc.attachments import service as attachments
from kbsvc.attachments import sniff
from kbsvc.attachments.models import Attachment
from kbsvc.auth.models import SYSTEM
from kbsvc.config import AttachmentSettings
from kbsvc.entries import changes
from kbsvc.entries.models import EntryStatus
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import TicketIn
from tests import attachments_data as files
from tests.factories import make_entry
from tests.web.conftest import LiveServer, login, shot
from tests.web.test_web_widget import ITEM, write_host_page
from tests.web.test_web_widget import host_site as host_site  # the fixture, for this module

pytestmark = pytest.mark.browser
SETTINGS = AttachmentSettings()

PASTE = """(b64) => {
  const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
  const dt = new DataTransfer();
  dt.items.add(new File([bytes], 'image.png', {type: 'image/png'}));
  document.querySelector('.att-drop').focus();
  document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: dt, bubbles: true}));
}"""


def _attachments(server: LiveServer, entry_id: int) -> list[Attachment]:
    with server.session() as s:
        stmt = select(Attachment).where(col(Attachment.entry_id) == entry_id)
        return list(s.execute(stmt).scalars())


def test_edit_form_uploads_chosen_and_pasted_screenshots(
    page, live_server: LiveServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import base64

    tag = uuid.uuid4().hex[:6]
    with live_server.session() as s:
        entry_id = make_entry(s, status=EntryStatus.draft, title=f"附件测试草稿{tag}").id
    assert entry_id is not None
    chosen = tmp_path / "挂号报错.png"
    chosen.write_bytes(files.png(color="#226"))
    fake = tmp_path / "假图片.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"junk" * 40)

    login(page, live_server, "editor1", f"/entries/{entry_id}/edit")
    assert "患者姓名" in page.locator(".att-warning").inner_text()
    page.locator("#c-files").set_input_files(str(chosen))
    page.locator(".att-editing img[alt='挂号报错.png']").wait_for()
    page.evaluate(PASTE, base64.b64encode(files.png(color="#a52")).decode())
    page.locator(".att-editing img[alt='粘贴的截图.png']").wait_for()
    page.locator("#c-files").set_input_files(str(fake))
    error = page.locator(".att-error")
    error.wait_for()
    assert "假图片.png" in error.inner_text() and "无法解码" in error.inner_text()
    shot(page, "attachments-edit")
    assert sorted(a.filename for a in _attachments(live_server, entry_id)) == [
        "挂号报错.png",
        "粘贴的截图.png",
    ]

    page.goto(f"{live_server.url}/entries/{entry_id}")
    images = page.locator(".att-gallery img")
    assert images.count() == 2
    assert page.evaluate(
        "() => [...document.querySelectorAll('.att-gallery img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    # Removing one from the draft takes it off at once.
    page.goto(f"{live_server.url}/entries/{entry_id}/edit")
    page.locator("li", has=page.locator("img[alt='挂号报错.png']")).get_by_role(
        "button", name="移除"
    ).click()
    page.locator(".att-editing img[alt='挂号报错.png']").wait_for(state="detached")
    live = [a.filename for a in _attachments(live_server, entry_id) if a.state == "live"]
    assert live == ["粘贴的截图.png"]
    assert page.page_errors == []


def test_capture_form_uploads_queued_screenshot_after_saving(
    page, live_server: LiveServer, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ext = f"GD-ATT-{uuid.uuid4().hex[:6]}"
    with live_server.session() as s:
        ticket, _ = tickets.upsert_one(
            s,
            TicketIn(
                source="helpdesk",
                external_id=ext,
                title="自助机打印报错 PRN-ERR-07",
                symptom="自助机打印发票时弹出错误框 PRN-ERR-07",
                solution="更换打印机驱动后重启自助机",
                system="自助机",
            ),
        )
        ticket_id = ticket.id
    shot_file = tmp_path / "自助机报错.jpg"
    shot_file.write_bytes(files.jpeg_with_gps())
    login(page, live_server, "editor1", f"/capture/ticket/{ticket_id}")
    page.locator("#c-files").set_input_files(str(shot_file))
    assert "保存后上传" in page.locator(".att-queued").inner_text()
    assert page.evaluate(  # the queued preview shows under the page's CSP
        "() => new Promise(r => setTimeout(() => { const i = document.querySelector("
        "'.att-queued img'); r(!!i && i.complete && i.naturalWidth > 0); }, 500))"
    )
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r".*/my\?saved=\d+$"))
    entry_id = int(page.url.rsplit("=", 1)[1])
    rows = _attachments(live_server, entry_id)
    assert [(a.filename, a.media_type, a.state) for a in rows] == [
        ("自助机报错.jpg", "image/jpeg", "live")
    ]
    page.goto(f"{live_server.url}/entries/{entry_id}")
    assert page.locator(".att-gallery img[alt='自助机报错.jpg']").count() == 1
    assert page.page_errors == [] and page.dialogs == []


def test_widget_detail_shows_thumbnails_with_its_own_key(
    page, live_server: LiveServer, host_site: tuple[str, Path]
) -> None:  # type: ignore[no-untyped-def]
    tag = uuid.uuid4().hex[:6]
    title = f"叫号屏黑屏报错{tag}"
    with live_server.session() as s:
        entry = make_entry(
            s, status=EntryStatus.draft, title=title, symptom="候诊区叫号屏突然黑屏", system="叫号"
        )
        entry_id = entry.id or 0
        clean = sniff.clean_upload(files.png(300, 150, "#135"), "叫号屏.png", SETTINGS)
        attachments.add(s, entry_id=entry_id, upload=clean, principal=SYSTEM, settings=SETTINGS)
        entry.status = EntryStatus.published
        s.add(entry)
        changes.touch(s, entry_id)
    live_server.wait_suggested(entry_id, f"叫号屏黑屏 {tag}")
    origin, folder = host_site
    path = write_host_page(
        folder, src=f"{live_server.url}/widget.js", key=live_server.host_key, ticket=f"EXT-{tag}"
    )
    page.goto(origin + path)
    page.locator("#desc").fill(f"叫号屏黑屏 {tag}")
    item = page.locator(ITEM, has_text=title).first
    item.wait_for(timeout=60_000)  # the shared server may be busy reading earlier screenshots
    # A high-confidence first hit opens by itself; otherwise the title opens it.
    if item.locator(".detail").is_hidden():
        item.locator(".title").click()
    thumb = item.locator(".thumbs img[alt='叫号屏.png']")
    thumb.wait_for(timeout=10_000)
    assert page.evaluate(
        "() => { const i = document.querySelector('[data-kbsvc-widget] .thumbs img') ||"
        " [...document.querySelectorAll('*')].map(e => e.shadowRoot).filter(Boolean)"
        ".map(r => r.querySelector('.thumbs img')).find(Boolean);"
        " return !!i && i.complete && i.naturalWidth > 0; }"
    )
    shot(page, "attachments-widget")
    assert page.page_errors == []
