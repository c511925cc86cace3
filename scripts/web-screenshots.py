"""Regenerate the README screenshots (docs/img/*.png) from the demo data in Debian chromium.

Usage: python scripts/web-screenshots.py   (needs /usr/bin/chromium; loads `kbsvc demo` into a
temporary data directory, serves it on a free port, logs in as the demo admin).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "img"


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, serve_in_thread

    data_dir = tempfile.mkdtemp(prefix="kbsvc-shots-")
    env = {**os.environ, "KBSVC_DATA_DIR": data_dir, "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-m", "kbsvc", "demo"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    os.environ.update(env)
    from api.app import create_app
    from kbsvc.config import Settings

    port = free_port()
    serve_in_thread(create_app(Settings(_env_file=None)), port)  # type: ignore[call-arg]
    url = f"http://127.0.0.1:{port}"
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, locale="zh-CN")
        page.goto(f"{url}/login?next=/")
        page.get_by_label("用户名").fill("admin")
        page.get_by_label("密码").fill("kbsvc-demo")
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(f"{url}/")
        page.get_by_label("描述你遇到的问题").fill("门诊医生站登不上怎么办")
        page.get_by_label("描述你遇到的问题").press("Enter")
        page.locator(".result").first.wait_for()
        page.screenshot(path=str(OUT / "search.png"))
        page.goto(f"{url}/demo/ticket")
        page.locator("#title").fill("自助机不出条")
        page.locator("#desc").fill(
            "门诊大厅2号自助机挂号后不出凭条，病人拿不到挂号单，屏幕没有报错"
        )
        page.locator("[data-kbsvc-widget] li.item").first.wait_for(timeout=20_000)
        page.wait_for_timeout(400)
        page.screenshot(path=str(OUT / "widget.png"))
        browser.close()
    print(f"wrote {OUT / 'search.png'} and {OUT / 'widget.png'}")


if __name__ == "__main__":
    main()
