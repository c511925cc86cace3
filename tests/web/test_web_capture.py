"""Capture flow in a real browser: log in, pick a resolved ticket, see duplicates, save a draft."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.web.conftest import LiveServer, login, shot

pytestmark = pytest.mark.browser


def test_capture_resolved_ticket_into_draft(page, live_server: LiveServer) -> None:
    login(page, live_server, "editor1", "/capture")
    row = page.locator("tr", has_text="GD-WEB-0100")
    assert "药房发药机屏幕触摸失灵" in row.inner_text()
    shot(page, "capture-list")
    row.get_by_role("button", name="采编工单 GD-WEB-0100").click()
    page.wait_for_url(re.compile(r".*/capture/\d+$"))
    assert page.get_by_label("标题").input_value() == "药房发药机屏幕触摸失灵"
    assert "重新校准触摸屏" in page.get_by_label("处理方法").input_value()
    assert page.locator(".duplicates h2").inner_text() == "可能重复的记录"
    page.get_by_label("处理方法").fill("1. 进入维护模式\n2. 重新校准触摸屏\n3. 重启发药机")
    shot(page, "capture-form")
    page.get_by_role("button", name="保存", exact=True).click()
    page.wait_for_url(re.compile(r".*/entries/\d+$"))
    entry_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("h1").inner_text() == "药房发药机屏幕触摸失灵"
    req = urllib.request.Request(
        f"{live_server.url}/api/v1/entries/{entry_id}",
        headers={"X-API-Key": live_server.admin_key()},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        entry = json.load(resp)
    assert entry["status"] == "draft"
    assert "重启发药机" in entry["solution"]
    assert {"source": "helpdesk", "external_id": "GD-WEB-0100", "kind": "source"} in entry["links"]
    assert page.page_errors == []
