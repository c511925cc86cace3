"""A trainer shapes a handbook in chromium (pick, drop, order), exports the PDF as a background
job with progress, and downloads it; a trainee reads the published edition."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.web.conftest import LiveServer, login, shot

pytestmark = pytest.mark.browser

PICK = "门诊医生站CA证书过期导致无法登录"


def entry_titles(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator("[data-entry] > a").all_inner_texts()


def saved(page, button) -> None:  # type: ignore[no-untyped-def]
    """Click a shaping button; the page saves and reloads itself."""
    with page.expect_navigation():
        button.click()


def test_trainer_picks_drops_orders_and_downloads(page, live_server: LiveServer) -> None:
    title = f"自助机手册-{uuid.uuid4().hex[:6]}"  # the live server is shared: a name of its own
    login(page, live_server, "editor1", "/handbooks")
    page.get_by_label("书名").fill(title)
    page.get_by_label("自助机").check()
    page.get_by_role("button", name="创建并预览").click()
    page.wait_for_url(re.compile(r".*/handbooks/\d+$"))
    before = entry_titles(page)
    assert len(before) >= 2 and PICK not in before
    # Order: the second entry moves up to open the book.
    saved(page, page.get_by_role("button", name=f"上移 {before[1]}"))
    assert entry_titles(page)[0] == before[1]
    # Pick: an entry outside the selection, found by its title.
    page.get_by_label("加入条目").fill("CA证书")
    add = page.get_by_role("button", name=f"加入 {PICK}")
    add.wait_for(timeout=30_000)
    saved(page, add)
    assert entry_titles(page)[-1] == PICK
    # Drop: the former first entry leaves the book and waits under 已移除的条目.
    dropped = before[0]
    saved(page, page.get_by_role("button", name=f"移除 {dropped}"))
    shown = entry_titles(page)
    assert shown == [before[1], PICK]
    assert page.get_by_role("button", name=f"恢复 {dropped}").is_visible()
    shot(page, "handbook-shaping")
    # Background PDF export: progress, then a download link.
    page.locator("[data-export-job='pdf']").first.click()
    link = page.locator("[data-download='pdf']")
    link.wait_for(timeout=180_000)
    assert "下载" in link.inner_text()
    with page.expect_download() as info:
        link.click()
    body = Path(info.value.path()).read_bytes()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=body, capture_output=True, check=True
    ).stdout.decode("utf-8")
    flat = re.sub(r"\s+", "", text)
    positions = [flat.find(re.sub(r"\s+", "", t) + "适用系统") for t in shown]
    assert -1 not in positions and positions == sorted(positions)  # preview order == PDF order
    assert re.sub(r"\s+", "", dropped) + "适用系统" not in flat
    assert flat.count(PICK + "适用系统") == 1
    assert page.page_errors == []


def test_trainee_reads_a_published_edition(page, live_server: LiveServer) -> None:
    title = f"培训手册-{uuid.uuid4().hex[:6]}"
    login(page, live_server, "editor1", "/handbooks")
    page.get_by_label("书名").fill(title)
    page.get_by_label("自助机").check()
    page.get_by_role("button", name="创建并预览").click()
    page.wait_for_url(re.compile(r".*/handbooks/\d+$"))
    url = page.url
    with page.expect_navigation():
        page.get_by_role("button", name="发布新版").click()
    page.context.clear_cookies()
    login(page, live_server, "viewer1", "/handbooks")
    assert page.get_by_role("link", name=title).is_visible()
    page.goto(url)
    assert "第 1 版" in page.locator(".entry-meta").inner_text()
    assert page.locator("[data-shaping]").count() == 0
    assert page.locator("[data-entry]").count() >= 1
    assert (
        page.get_by_role("link", name="Markdown").first.get_attribute("href").endswith("edition=1")
    )
    assert page.page_errors == []
