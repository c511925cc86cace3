"""The widget on a helpdesk page from another origin: IME, pinned citations, insert, 存为知识."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kbsvc.analytics.models import SearchLog
from kbsvc.entries.models import Entry, EntryLink
from tests.web.conftest import LiveServer, shot

pytestmark = pytest.mark.browser

WIDGET = "[data-kbsvc-widget]"
ITEM = f"{WIDGET} li.item"
PINNED = f"{WIDGET} li.item.cited"
FIELDS = {
    "ticket_id": "#no",
    "title": "#t",
    "description": "#d",
    "solution": "#fix",
    "workaround": "#wa",
    "system": "#sys",
    "department": "#dept",
}
PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>某厂商工单系统</title></head>
<body><h1>工单处理</h1>
<form><input id="no" value="{ticket}"><input id="t" aria-label="标题">
<textarea id="d" aria-label="描述"></textarea><input id="sys" value=""><input id="dept" value="">
<textarea id="fix" aria-label="处理方法"></textarea><input id="wa" aria-label="应急处理"></form>
<div id="panel"></div>
<script src="{src}" data-kbsvc-key="{key}" data-source="vendor-hd" data-container="#panel"
  data-fields='{fields}' async></script>
</body></html>
"""


def open_ticket(page: Any, server: LiveServer, other_origin: tuple[str, Path], ticket: str) -> None:
    origin, folder = other_origin
    html = PAGE.format(
        ticket=ticket,
        src=f"{server.url}/widget.js",
        key=server.host_key,
        fields=json.dumps(FIELDS),
    )
    (folder / f"{ticket}.html").write_text(html, encoding="utf-8")
    page.goto(f"{origin}/{ticket}.html")
    page.locator(f"{WIDGET} .kb").wait_for(timeout=10_000)


def suggest_bodies(page: Any) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []

    def on_request(req: Any) -> None:
        if "/api/v1/suggest" in req.url and req.method == "POST":
            bodies.append({**json.loads(req.post_data or "{}"), "_at": time.monotonic()})

    page.on("request", on_request)
    return bodies


def test_ime_composition_never_queries_half_typed_pinyin(
    page: Any, live_server: LiveServer, other_origin: tuple[str, Path]
) -> None:
    open_ticket(page, live_server, other_origin, "IME-1")
    bodies = suggest_bodies(page)
    cdp = page.context.new_cdp_session(page)
    page.locator("#d").focus()
    committed_at = []
    # 食堂饭卡充值失败 typed with a pinyin input method, one syllable group at a time.
    for pinyin, hanzi in (
        ("shitang", "食堂"),
        ("fanka", "饭卡"),
        ("chongzhi", "充值"),
        ("shibai", "失败"),
    ):
        for n in range(1, len(pinyin) + 1):
            cdp.send(
                "Input.imeSetComposition",
                {"text": pinyin[:n], "selectionStart": n, "selectionEnd": n},
            )
            page.wait_for_timeout(90)
        assert page.locator("#d").input_value().endswith(pinyin)  # the IME shows it inline
        page.wait_for_timeout(400)  # longer than the debounce, composition still open
        composing_since = committed_at[-1] if committed_at else 0.0
        assert not [b for b in bodies if b["_at"] > composing_since + 0.35], bodies
        cdp.send("Input.insertText", {"text": hanzi})
        committed_at.append(time.monotonic())
    assert page.locator("#d").input_value() == "食堂饭卡充值失败"
    page.wait_for_timeout(700)
    texts = [b["text"] for b in bodies]
    assert texts and texts[-1] == "食堂饭卡充值失败", texts
    assert not [t for t in texts if re.search(r"[a-z]", t)], texts
    with live_server.session() as s:
        queries = s.execute(select(SearchLog.query)).scalars().all()
    assert not [q for q in queries if re.search(r"(shi|fan|chong|tang|zhi|bai)", q)], queries


def test_citation_stays_pinned_across_requery_and_reload(
    page: Any, live_server: LiveServer, other_origin: tuple[str, Path]
) -> None:
    open_ticket(page, live_server, other_origin, "PIN-1")
    page.locator("#d").fill("自助机没纸了，不出凭条")
    item = page.locator(ITEM, has_text="自助机热敏纸用完不出凭条").first
    item.wait_for(timeout=15_000)
    item.locator("button.cite").click()
    pinned = page.locator(PINNED, has_text="自助机热敏纸用完不出凭条")
    pinned.wait_for(timeout=10_000)
    assert page.locator(ITEM).first.get_attribute("class") == "item cited"
    assert pinned.locator(".band").inner_text() == "已引用"

    page.locator("#d").fill("PACS看片子黑屏")  # a different query
    page.locator(f"{ITEM}:not(.cited)", has_text="PACS").first.wait_for(timeout=15_000)
    assert page.locator(ITEM).first.locator(".title").inner_text() == "自助机热敏纸用完不出凭条"
    assert page.locator(ITEM, has_text="自助机热敏纸用完不出凭条").count() == 1

    page.reload()
    pinned.wait_for(timeout=10_000)  # asked from the API before anything is typed
    assert page.locator(f"{WIDGET} .group").inner_text() == "已引用"
    shot(page, "widget-pinned-citation")
    assert page.page_errors == []


def test_insert_fix_fills_the_field_and_records_the_citation(
    page: Any, live_server: LiveServer, other_origin: tuple[str, Path]
) -> None:
    # The live text, not the seed's: earlier browser tests publish revisions of this entry.
    with live_server.session() as s:
        live = s.execute(
            select(Entry).where(Entry.title == "门诊医生站CA证书过期导致无法登录")
        ).scalar_one()
    open_ticket(page, live_server, other_origin, "INS-1")
    page.locator("#fix").fill("已电话联系科室")
    page.locator("#d").fill("医生站登不上，提示证书无效")
    item = page.locator(ITEM, has_text="门诊医生站CA证书过期导致无法登录").first
    item.wait_for(timeout=15_000)
    item.locator("button.insert").click()
    page.locator(PINNED, has_text="门诊医生站CA证书过期导致无法登录").wait_for(timeout=10_000)
    assert page.locator("#fix").input_value() == (
        f"已电话联系科室\n\n{live.solution}\n应急处理：{live.workaround}"
    )
    with live_server.session() as s:
        entry = s.execute(
            select(Entry).where(Entry.title == "门诊医生站CA证书过期导致无法登录")
        ).scalar_one()
        links = s.execute(select(EntryLink).where(EntryLink.entry_id == entry.id)).scalars().all()
    assert ("vendor-hd", "INS-1", "cited") in [(lk.source, lk.external_id, lk.kind) for lk in links]
    # Inserting again from the pinned item does not paste the fix twice.
    page.locator(PINNED).first.locator("button.insert").click()
    assert page.locator("#fix").input_value().count("联系CA厂商更新证书") == 1


def test_save_as_knowledge_twice_gives_one_masked_linked_draft(
    page: Any, live_server: LiveServer, other_origin: tuple[str, Path]
) -> None:
    open_ticket(page, live_server, other_origin, "CAP-1")
    page.locator("#t").fill("手麻系统术中记录无法保存")
    page.locator("#d").fill("手术室3间手麻系统保存时报错，患者王五住院号ZY778899")
    page.locator("#fix").fill("清理本地缓存后重新登录手麻系统，回访电话13612345678")
    page.locator("#sys").fill("手麻系统")
    save = page.locator(f"{WIDGET} button.save")
    note = page.locator(f"{WIDGET} .capture .note")
    save.click()
    page.wait_for_function(
        "() => document.querySelector('[data-kbsvc-widget]').shadowRoot"
        ".querySelector('.capture .note').textContent === '已存为草稿，等待审核'",
        timeout=10_000,
    )
    page.locator("#fix").fill("清理本地缓存并升级客户端后重新登录")
    save.click()
    page.wait_for_function(
        "() => document.querySelector('[data-kbsvc-widget]').shadowRoot"
        ".querySelector('.capture .note').textContent === '已更新草稿，等待审核'",
        timeout=10_000,
    )
    shot(page, "widget-save-as-knowledge")
    assert note.inner_text() == "已更新草稿，等待审核"
    with live_server.session() as s:
        rows = (
            s.execute(
                select(Entry)
                .join(EntryLink, EntryLink.entry_id == Entry.id)  # type: ignore[arg-type]
                .where(EntryLink.source == "vendor-hd", EntryLink.external_id == "CAP-1")  # type: ignore[arg-type]
            )
            .scalars()
            .all()
        )
    assert len(rows) == 1
    draft = rows[0]
    assert draft.status == "draft" and draft.solution == "清理本地缓存并升级客户端后重新登录"
    assert "王五" not in draft.symptom and "ZY778899" not in draft.symptom
    assert draft.system == "手麻系统"
    assert page.page_errors == []
