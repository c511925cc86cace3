"""The reports page in real chromium: charts render; the screenshot goes to artifacts/."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from kbsvc.analytics import demo

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--lang=zh-CN",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_reports_page_screenshot(app, engine: Engine, reviewer_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    import uvicorn
    from playwright.sync_api import sync_playwright

    demo.seed(engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(
                viewport={"width": 1360, "height": 900},
                locale="zh-CN",
                extra_http_headers=reviewer_headers,
            )
            page.goto(f"http://127.0.0.1:{port}/reports")
            heat = page.locator("svg[aria-label='科室 × 系统 工单热力图']")
            assert heat.is_visible()
            box = heat.bounding_box()
            assert box is not None and box["width"] > 600 and box["height"] > 300
            assert page.locator("svg rect").count() > 200
            assert page.get_by_text("手术室无影灯不亮").first.is_visible()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert (ARTIFACTS / "reports.png").stat().st_size > 50_000
