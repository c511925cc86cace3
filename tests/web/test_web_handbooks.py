"""Handbook builder in a real browser: define a handbook, preview its chapters, export links."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.web.conftest import LiveServer, login, shot

pytestmark = pytest.mark.browser


def test_build_preview_and_export_handbook(page, live_server: LiveServer) -> None:
    login(page, live_server, "editor1", "/handbooks")
    page.get_by_label("书名").fill("自助机与打印常见故障处理")
    page.get_by_label("自助机").check()
    page.get_by_role("button", name="创建并预览").click()
    page.wait_for_url(re.compile(r".*/handbooks/\d+$"))
    assert page.locator("h1").inner_text() == "自助机与打印常见故障处理"
    toc = page.locator(".toc").inner_text()
    assert "自助机热敏纸用完不出凭条" in toc
    assert "门诊医生站CA证书过期导致无法登录" not in toc
    shot(page, "handbook-preview")
    href = page.get_by_role("link", name="Markdown").get_attribute("href")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    req = urllib.request.Request(live_server.url + href, headers={"Cookie": cookies})
    with urllib.request.urlopen(req, timeout=60) as resp:
        body = resp.read().decode("utf-8")
    assert "自助机热敏纸用完不出凭条" in body
    assert page.page_errors == []
