"""The generated userscript, injected as an init script into a plain vendor page elsewhere."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.entries.models import Entry, EntryLink
from kbsvc.hooks import HookCapture, delivery
from kbsvc.hooks import service as hooks
from tests.web.conftest import PASSWORD, LiveServer, login, shot

pytestmark = pytest.mark.browser

WIDGET = "[data-kbsvc-widget]"
ITEM = f"{WIDGET} li.item"
# A vendor page with no widget tag; its form is rendered by its own script after load, as
# single-page helpdesks do.
VENDOR_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>厂商工单</title></head>
<body><h1>工单详情</h1><div id="app"></div>
<script>
setTimeout(function () {
  document.getElementById('app').innerHTML =
    '<span class="no">VD-0815</span>' +
    '<input class="subject" aria-label="主题">' +
    '<div class="desc"><textarea aria-label="描述"></textarea></div>' +
    '<textarea name="resolution" aria-label="处理结果"></textarea><div id="side"></div>';
}, 400);
</script>
</body></html>
"""
FIELDS = {
    "ticket_id": ".no",
    "title": ".subject",
    "description": ".desc textarea",
    "solution": "textarea[name=resolution]",
    "container": "#side",
}


@pytest.fixture
def vendor(other_origin: tuple[str, Path]) -> Iterator[str]:
    origin, folder = other_origin
    (folder / "vendor.html").write_text(VENDOR_PAGE, encoding="utf-8")
    yield origin + "/vendor.html"


def make_userscript(server: LiveServer, match: str) -> dict[str, Any]:
    body = json.dumps({"match": match, "fields": FIELDS, "source": "vendor-spa"}).encode()
    req = urllib.request.Request(
        f"{server.url}/api/v1/widget/userscripts",
        data=body,
        headers={"X-API-Key": server.admin_key(), "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)  # type: ignore[no-any-return]


def test_userscript_loads_the_widget_into_a_vendor_page(
    page: Any, live_server: LiveServer, vendor: str
) -> None:
    made = make_userscript(live_server, live_server.host_origin + "/*")
    assert made["origin"] == live_server.host_origin
    page.add_init_script(script=made["userscript"])
    page.goto(vendor)
    page.locator(".desc textarea").fill("自助机没纸了，不出凭条")
    item = page.locator(ITEM, has_text="自助机热敏纸用完不出凭条").first
    item.wait_for(timeout=15_000)
    assert page.locator("#side " + WIDGET).count() == 1  # in the mapped container
    item.locator("button.insert").click()
    page.locator(f"{ITEM}.cited").first.wait_for(timeout=10_000)
    assert "更换纸卷，清洁传感器" in page.locator("textarea[name=resolution]").input_value()
    shot(page, "widget-userscript")
    with live_server.session() as s:
        entry = s.execute(
            select(Entry).where(Entry.title == "自助机热敏纸用完不出凭条")
        ).scalar_one()
        links = s.execute(select(EntryLink).where(EntryLink.entry_id == entry.id)).scalars().all()
    assert ("vendor-spa", "VD-0815", "cited") in [
        (lk.source, lk.external_id, lk.kind) for lk in links
    ]
    assert page.page_errors == []


def test_admin_page_makes_a_userscript_and_replays_a_dead_letter(
    page: Any, live_server: LiveServer
) -> None:
    with live_server.session() as s:
        auth_service.create_user(s, username="admin-us", role=Role.admin, password=PASSWORD)
        hooks.create(s, name="vendor-push", capture=HookCapture.draft)
        hook = hooks.get(s, name="vendor-push")
        event = {"event": "created", "id": "v-1", "ticket": {"num": "VD-1", "subj": "打印机卡纸"}}
        delivery.receive(
            s, hook=hook, body=json.dumps(event).encode(), privacy=live_server.settings.privacy
        )
        s.commit()
    login(page, live_server, "admin-us", "/admin/integrations")
    letter = page.locator(".dead-letter", has_text="v-1")
    assert "no column for title" in letter.inner_text()
    with live_server.session() as s:
        hooks.set_mapping(
            s, name="vendor-push", mapping_toml='[columns]\nexternal_id = "num"\ntitle = "subj"'
        )
        s.commit()
    letter.get_by_role("button", name="按当前映射重新处理").click()
    letter.wait_for(state="hidden", timeout=10_000)

    page.get_by_label("工单页面地址").fill("https://hd.example.cn/ticket/*")
    page.get_by_label("工单系统名称").fill("vendor-hd")
    page.get_by_role("button", name="生成脚本").click()
    output = page.locator("#us-output")
    output.wait_for(timeout=10_000)
    script = output.input_value()
    assert (
        script.startswith("// ==UserScript==")
        and "@match        https://hd.example.cn/ticket/*" in script
    )
    shot(page, "admin-integrations")
    assert page.page_errors == []
