"""Admin adds a webhook channel on /admin/notify; a submitted entry reaches the receiver."""

from __future__ import annotations

import time

import pytest

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import SYSTEM, Role
from kbsvc.entries import workflow
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry
from tests.kbsvc.notify.receivers import SECRET, Receiver
from tests.web.conftest import PASSWORD, LiveServer, login, shot

pytestmark = pytest.mark.browser


def test_admin_adds_channel_and_sees_delivery(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    rx = Receiver("webhook")
    try:
        with live_server.session() as s:
            auth_service.create_user(s, username="notifyadmin", role=Role.admin, password=PASSWORD)
        login(page, live_server, "notifyadmin", "/admin/notify")
        page.get_by_label("名称").fill("信息科值班 Webhook")
        page.get_by_label("类型").select_option("webhook")
        page.get_by_label("机器人 / Webhook 地址").fill(rx.url)
        page.get_by_label("加签密钥").fill(SECRET)
        page.get_by_label("每周摘要").check()
        page.get_by_role("button", name="添加").click()
        page.wait_for_selector("td:has-text('信息科值班 Webhook')")
        assert "通用 Webhook（已加签）" in page.content()

        with live_server.session() as s:
            entry = make_entry(s, status=EntryStatus.draft, title="手麻系统打印麻醉单空白")
            workflow.transition(
                s, entry_id=entry.id or 0, action="submit", actor="user:editor1", principal=SYSTEM
            )
        deadline = time.monotonic() + 30
        while not rx.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert (
            rx.problems == []
            and rx.received[0]["body"]["title"] == "待审核：手麻系统打印麻醉单空白"
        )
        page.reload()
        page.wait_for_selector("td:has-text('已发送')")
        shot(page, "admin-notify")

        page.once("dialog", lambda d: d.accept())
        page.get_by_role("button", name="停用").first.click()
        page.wait_for_selector("td:has-text('停用')")
        assert page.page_errors == []  # type: ignore[attr-defined]
    finally:
        rx.close()
