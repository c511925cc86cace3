"""Search flow in a real browser: a colloquial question finds the right entry; XSS stays inert."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import LiveServer, login, shot
from tests.web.seed import XSS_TITLE

pytestmark = pytest.mark.browser


def test_colloquial_question_finds_entry_and_opens_it(page, live_server: LiveServer) -> None:
    login(page, live_server, "viewer1", "/")
    box = page.get_by_label("描述你遇到的问题")
    assert box.get_attribute("placeholder") == "例如：门诊医生站登不上怎么办"
    box.fill("门诊医生站登不上怎么办")
    box.press("Enter")
    page.wait_for_url(re.compile(r".*\?q=.*"))
    first = page.locator(".result").first
    assert "门诊医生站CA证书过期导致无法登录" in first.locator(".result-title").inner_text()
    assert first.locator(".badge").inner_text() in {"匹配度 高", "匹配度 中", "匹配度 低"}
    assert "GD-WEB-0001" in first.locator(".sources").inner_text()
    shot(page, "search-results")
    first.locator(".result-title a").click()
    page.wait_for_url(re.compile(r".*/entries/\d+$"))
    assert page.locator("h1").inner_text() == "门诊医生站CA证书过期导致无法登录"
    assert "联系CA厂商更新证书" in page.locator(".field-solution").inner_text()
    assert "GD-WEB-0001" in page.locator(".ticket-list").first.inner_text()
    shot(page, "entry-page")
    assert page.dialogs == [] and page.page_errors == []


def test_filters_and_empty_state(page, live_server: LiveServer) -> None:
    login(page, live_server, "viewer1", "/")
    page.goto(live_server.url + "/?q=" + "门诊医生站登不上")
    page.get_by_label("系统").select_option("PACS")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url(re.compile(r".*system=PACS.*"))
    titles = page.locator(".result-title").all_inner_texts()
    assert "门诊医生站CA证书过期导致无法登录" not in titles
    page.goto(live_server.url + "/?q=" + "量子计算机超导线圈失超")
    # Nothing answers this. Depending on what earlier tests added to the shared KB, the page
    # shows the empty state or a few 可能相关 hits under a callout; never a confident badge.
    main = page.locator("main")
    main.locator(".empty-state, .callout").first.wait_for()
    assert re.search("没有找到(高度)?相似的处理记录", main.inner_text())
    badges = main.locator(".result .badge").all_inner_texts()
    assert all(b == "匹配度 低" for b in badges), badges
    shot(page, "search-empty")


def test_xss_payload_is_inert_on_search_and_entry_page(page, live_server: LiveServer) -> None:
    login(page, live_server, "viewer1", "/")
    page.goto(live_server.url + "/?q=" + "自助机凭条打印乱码")
    result = page.locator(".result", has_text="自助机凭条打印乱码").first
    # The payload is shown as text, never parsed into elements.
    assert XSS_TITLE in result.locator(".result-title").inner_text()
    assert page.locator("#injected").count() == 0
    assert page.locator(".result img, .result script, .result svg, .result iframe").count() == 0
    shot(page, "xss-search")
    result.locator(".result-title a").click()
    page.wait_for_url(re.compile(r".*/entries/\d+$"))
    assert page.locator("h1").inner_text() == XSS_TITLE
    assert page.locator("#injected").count() == 0
    injected = "article img, article script, article svg, article iframe, .tag i"
    assert page.locator(injected).count() == 0
    assert "<script>" in page.locator(".field-symptom").inner_text()
    shot(page, "xss-entry")
    page.wait_for_timeout(300)
    assert page.dialogs == [], page.dialogs
