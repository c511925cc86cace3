"""Capture flow in a real browser: pick a resolved ticket, nothing is created until 保存."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from sqlalchemy import func, select

from kbsvc.entries.models import Entry
from tests.web.conftest import LiveServer, login, shot

pytestmark = pytest.mark.browser


def _entries(live_server: LiveServer) -> int:
    with live_server.session() as s:
        return int(s.execute(select(func.count()).select_from(Entry)).scalar_one())


def test_capture_creates_nothing_until_saved(page, live_server: LiveServer) -> None:
    login(page, live_server, "editor1", "/capture")
    row = page.locator("tr", has_text="GD-WEB-0100")
    assert "药房发药机屏幕触摸失灵" in row.inner_text()
    shot(page, "capture-list")
    before = _entries(live_server)
    row.get_by_role("link", name="采编工单 GD-WEB-0100").click()
    page.wait_for_url(re.compile(r".*/capture/ticket/\d+$"))
    assert page.get_by_label("标题").input_value() == "药房发药机屏幕触摸失灵"
    assert "重新校准触摸屏" in page.get_by_label("处理方法").input_value()
    assert page.locator(".duplicates h2").inner_text() == "可能重复的记录"
    assert _entries(live_server) == before  # opening the form created nothing
    # 取消 leaves nothing behind either.
    page.get_by_role("link", name="取消").click()
    page.wait_for_url(re.compile(r".*/capture$"))
    assert _entries(live_server) == before
    page.locator("tr", has_text="GD-WEB-0100").get_by_role(
        "link", name="采编工单 GD-WEB-0100"
    ).click()
    page.get_by_label("处理方法").fill("1. 进入维护模式\n2. 重新校准触摸屏\n3. 重启发药机")
    shot(page, "capture-form")
    page.get_by_role("button", name="保存草稿").click()
    page.wait_for_url(re.compile(r".*/my\?saved=\d+$"))
    entry_id = int(page.url.rsplit("=", 1)[1])
    assert "已保存条目" in page.locator("#saved-notice").inner_text()
    assert _entries(live_server) == before + 1
    req = urllib.request.Request(
        f"{live_server.url}/api/v1/entries/{entry_id}",
        headers={"X-API-Key": live_server.admin_key()},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        entry = json.load(resp)
    assert entry["status"] == "draft"
    assert "重启发药机" in entry["solution"]
    assert {"source": "helpdesk", "external_id": "GD-WEB-0100", "kind": "source"} in entry["links"]
    # The ticket now belongs to an entry: capturing it again offers that entry.
    page.goto(f"{live_server.url}/capture")
    page.locator("tr", has_text="GD-WEB-0100").get_by_role(
        "link", name=re.compile("查看工单")
    ).click()
    page.wait_for_url(re.compile(rf".*/entries/{entry_id}$"))
    assert page.page_errors == []
