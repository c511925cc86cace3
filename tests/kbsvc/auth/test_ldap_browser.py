"""The login page in chromium shows the directory's Chinese refusal messages."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from kbsvc.config import LdapSettings, Settings
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, serve_in_thread

pytestmark = pytest.mark.browser


def test_login_page_messages(settings: Settings, engine: Engine, ldap_cfg: LdapSettings) -> None:
    from playwright.sync_api import sync_playwright

    from api.app import create_app

    settings.ldap, settings.notify.worker = ldap_cfg, False
    port = free_port()
    server, thread = serve_in_thread(create_app(settings, db_engine=engine), port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            for user, password, shown in [
                ("wangwu", "ww-Pass-3", "该账号已在目录中停用，请联系信息科"),
                ("zhaoliu", "zl-Pass-4", "该账号不在知识库授权的目录组中，请联系信息科开通权限"),
                ("zhangsan", "wrong-Pass", "用户名或密码不正确"),
            ]:
                page.goto(f"http://127.0.0.1:{port}/login")
                page.fill("#username", user)
                page.fill("#password", password)
                page.click("button[type=submit]")
                page.wait_for_selector("#login-error:not([hidden])")
                assert page.inner_text("#login-error") == shown
            page.goto(f"http://127.0.0.1:{port}/login")
            page.fill("#username", "zhangsan")
            page.fill("#password", "zs-Pass-1")
            page.click("button[type=submit]")
            page.wait_for_url(f"http://127.0.0.1:{port}/")
            browser.close()
    finally:
        server.should_exit = True  # type: ignore[attr-defined]
        thread.join(10)
