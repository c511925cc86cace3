"""The knowledge loop in Debian chromium: review guards live content, nothing cited is destroyed,
feedback reaches reviewers, browsing, administration, an expired session, phone and laptop."""

from __future__ import annotations

import json
import os
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, LinkKind
from tests.factories import make_entry
from tests.web.conftest import ARTIFACTS, PASSWORD, LiveServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PHONE, LAPTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}
CA_TITLE = "门诊医生站CA证书过期导致无法登录"
LIVE_SOLUTION = "联系CA厂商更新证书"


class People:
    """One browser context per person, confirm dialogs accepted (the UI asks before acting)."""

    def __init__(self, browser, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
        self.browser, self.server, self.contexts = browser, server, []  # type: ignore[var-annotated]
        self.errors: list[str] = []

    def page(self, username: str, path: str = "/", viewport: dict[str, int] = LAPTOP):  # type: ignore[no-untyped-def]
        ctx = self.browser.new_context(viewport=viewport, locale="zh-CN")
        self.contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("dialog", lambda d: d.accept() if d.type == "confirm" else d.dismiss())
        pg.on("pageerror", lambda err: self.errors.append(str(err)))
        if username:
            sign_in(pg, self.server, username, path)
        return pg

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


def sign_in(page, server: LiveServer, username: str, path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/login?next={path}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server.url}{path}*")


@pytest.fixture
def people(browser, live_server: LiveServer) -> Iterator[People]:  # type: ignore[no-untyped-def]
    crowd = People(browser, live_server)
    yield crowd
    crowd.close()
    assert crowd.errors == []


def api_get(server: LiveServer, path: str) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(server.url + path, headers={"X-API-Key": server.admin_key()})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)  # type: ignore[no-any-return]


def entry_id(server: LiveServer, title: str) -> int:
    found = api_get(server, "/api/v1/entries?limit=200")["data"]
    return next(e["id"] for e in found if e["title"] == title)


def save_shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Refresh a README screenshot only when asked, so a test run leaves the tree clean."""
    folder = SCREENSHOTS if os.environ.get("KBSVC_UPDATE_SCREENSHOTS") == "1" else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def no_overflow(page) -> None:  # type: ignore[no-untyped-def]
    """Nothing wider than the window: only .table-wrap boxes may scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    culprits = page.evaluate(
        """w => Array.from(document.querySelectorAll('body *'))
            .filter(e => !(e.parentElement && e.parentElement.closest('.table-wrap'))
                && e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(
                e.getBoundingClientRect().right))""",
        page.viewport_size["width"],
    )
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide: {culprits}"


def test_edit_of_published_entry_goes_live_only_after_review(
    people: People, live_server: LiveServer
) -> None:
    eid = entry_id(live_server, CA_TITLE)
    editor = people.page("editor1", f"/entries/{eid}")
    editor.get_by_role("link", name="修改（需审核）").click()
    editor.wait_for_url(re.compile(rf".*/entries/{eid}/edit$"))
    assert "待审核的修改" in editor.locator(".lead").inner_text()
    editor.get_by_label("处理方法").fill("直接重装电脑即可。")
    save_shot(editor, "edit-revision-1280")
    editor.get_by_role("button", name="保存并提交审核").click()
    editor.wait_for_url(re.compile(r".*/my\?saved=\d+$"))
    assert CA_TITLE in editor.locator("#revs-title + .table-wrap").inner_text()

    # Readers (and the API) still get the live text while the revision waits.
    viewer = people.page("viewer1", f"/entries/{eid}")
    assert LIVE_SOLUTION in viewer.locator(".field-solution").inner_text()
    assert viewer.locator("#pending-revision").count() == 0
    assert LIVE_SOLUTION in api_get(live_server, f"/api/v1/entries/{eid}")["solution"]

    reviewer = people.page("reviewer1", "/review")
    item = reviewer.locator(".review-item", has_text=CA_TITLE)
    assert "直接重装电脑即可。" in item.locator(".diff-after").inner_text()
    assert LIVE_SOLUTION in item.locator(".diff-before").inner_text()
    assert "李编辑" in item.inner_text()
    save_shot(reviewer, "review-1280")
    item.get_by_role("button", name="退回").click()
    item.get_by_label("退回原因（提交人会看到）").fill("不能让用户重装电脑，请写出具体步骤")
    item.get_by_role("button", name="确认退回").click()
    reviewer.wait_for_selector(".review-item.review-done")

    editor.goto(f"{live_server.url}/entries/{eid}/edit")
    assert "不能让用户重装电脑" in editor.locator("#review-comment").inner_text()
    editor.get_by_label("处理方法").fill("1. 联系CA厂商更新证书\n2. 在证书助手中刷新后重新登录")
    editor.get_by_role("button", name="保存并提交审核").click()
    editor.wait_for_url(re.compile(r".*/my\?saved=\d+$"))

    reviewer.goto(f"{live_server.url}/review")
    reviewer.locator(".review-item", has_text=CA_TITLE).get_by_role(
        "button", name="通过并发布"
    ).click()
    reviewer.wait_for_selector(".review-item.review-done")
    viewer.reload()
    assert "在证书助手中刷新后重新登录" in viewer.locator(".field-solution").inner_text()
    history = viewer.locator(".version-list").inner_text()
    assert "发布修订" in history and "王审核" in history and "user:" not in history


def test_delete_refused_on_cited_entry(people: People, live_server: LiveServer) -> None:
    with live_server.session() as s:
        draft = make_entry(s, title="被引用的草稿条目", status=EntryStatus.draft)
        entries.link_ticket(
            s,
            entry_id=draft.id or 0,
            source="helpdesk",
            external_id="GD-WEB-0900",
            kind=LinkKind.cited,
            actor="t",
        )
        s.commit()
    editor = people.page("editor1", f"/entries/{draft.id}/edit")
    editor.get_by_role("button", name="删除草稿").click()
    error = editor.locator(".form-error")
    error.wait_for(state="visible")
    assert "归档" in error.inner_text()
    assert api_get(live_server, f"/api/v1/entries/{draft.id}")["title"] == "被引用的草稿条目"


def test_feedback_with_comment_reaches_reviewer_and_is_resolved(
    people: People, live_server: LiveServer
) -> None:
    eid = entry_id(live_server, "PACS影像调阅黑屏无法显示")
    viewer = people.page("viewer1", f"/entries/{eid}")
    viewer.get_by_role("button", name="没用").click()
    viewer.get_by_label(re.compile("哪里不对")).fill("回退驱动后仍然黑屏，要重装阅片客户端")
    viewer.get_by_role("button", name="提交反馈").click()
    viewer.locator(".feedback-msg", has_text="感谢反馈").wait_for()
    assert "已提醒审核人复核" in viewer.locator(".feedback-msg").inner_text()

    reviewer = people.page("reviewer1", "/review")
    flag = reviewer.locator(".flag-item", has_text="回退驱动后仍然黑屏")
    assert "张医生" in flag.inner_text()
    flag.get_by_role("button", name="标记已处理").click()
    reviewer.wait_for_selector(".flag-item.review-done")
    reviewer.reload()
    assert reviewer.locator(".flag-item", has_text="回退驱动后仍然黑屏").count() == 0


def test_browse_by_system_without_a_query(people: People, live_server: LiveServer) -> None:
    viewer = people.page("viewer1", "/")
    viewer.get_by_label("系统").select_option("PACS")
    viewer.get_by_role("button", name="搜索").click()
    viewer.wait_for_url(re.compile(r".*system=PACS.*"))
    head = viewer.locator("#browse-title").inner_text()
    assert re.fullmatch(r"共 \d+ 条知识", head)
    titles = viewer.locator(".browse-list .result-title").all_inner_texts()
    assert "PACS影像调阅黑屏无法显示" in titles and CA_TITLE not in titles
    # Search counts matches, not the size of the knowledge base.
    viewer.goto(f"{live_server.url}/?q=热敏纸")
    total = viewer.locator("#results-title").inner_text()
    assert total == "找到 1 条相关记录"


def test_admin_creates_widget_key_and_maps_a_value(people: People, live_server: LiveServer) -> None:
    admin = people.page("admin1", "/admin/keys")
    admin.get_by_label("名称").fill("门诊工单系统小组件")
    admin.get_by_label("允许的网页来源").fill(live_server.host_origin)
    admin.get_by_label("每分钟请求上限").fill("600")
    admin.get_by_role("button", name="创建").click()
    secret = admin.locator(".secret-box .secret-value")
    secret.wait_for(state="visible")
    key = secret.inner_text()
    admin.reload()
    row = admin.locator("tr", has_text="门诊工单系统小组件").first
    assert "600" in row.inner_text()
    save_shot(admin, "admin-keys-1280")
    req = urllib.request.Request(
        live_server.url + "/api/v1/suggest",
        data=json.dumps({"text": "医生站登不上"}).encode(),
        headers={
            "Authorization": f"Bearer {key}",
            "Origin": live_server.host_origin,
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200

    admin.goto(f"{live_server.url}/admin/vocab")
    row = admin.locator(".unmapped-row", has_text="出入院处")
    row.locator("input[name=target]").fill("出入院处")
    save_shot(admin, "admin-vocab-1280")
    row.locator("button[type=submit]").click()
    admin.wait_for_load_state("networkidle")
    admin.reload()
    assert admin.locator(".unmapped-row", has_text="出入院处").count() == 0
    assert "出入院处" in admin.locator("#vocab-department + .table-wrap").inner_text()

    admin.goto(f"{live_server.url}/admin/users")
    admin.get_by_label("登录名").fill("sunqi")
    admin.get_by_label("姓名").fill("孙七")
    admin.get_by_label("初始密码").fill("sunqi-initial-1")
    admin.locator("form[data-api-form] button[type=submit]").first.click()
    admin.wait_for_selector("tr:has-text('sunqi')")
    save_shot(admin, "admin-users-1280")


def test_expired_session_keeps_what_was_typed(people: People, live_server: LiveServer) -> None:
    eid = entry_id(live_server, "自助机热敏纸用完不出凭条")
    editor = people.page("editor1", f"/entries/{eid}/edit")
    editor.get_by_label("原因").fill("纸将尽传感器被纸屑挡住")
    editor.context.clear_cookies()  # the session expired while typing
    editor.get_by_role("button", name=re.compile("保存修改")).click()
    editor.wait_for_url(re.compile(r".*/login\?next=.*"))
    editor.get_by_label("用户名").fill("editor1")
    editor.get_by_label("密码").fill(PASSWORD)
    editor.get_by_role("button", name="登录").click()
    editor.wait_for_url(re.compile(rf".*/entries/{eid}/edit$"))
    assert editor.get_by_label("原因").input_value() == "纸将尽传感器被纸屑挡住"


PAGES = [
    "/",
    "/?q=打印机",
    "/my",
    "/capture",
    "/review",
    "/admin/users",
    "/admin/keys",
    "/admin/vocab",
    "/reports",
]


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1280"])
def test_pages_fit_phone_and_laptop(people: People, live_server: LiveServer, viewport) -> None:  # type: ignore[no-untyped-def]
    eid = entry_id(live_server, "异地就医结算提示未备案")
    admin = people.page("admin1", "/", viewport)
    for path in [*PAGES, f"/entries/{eid}", f"/entries/{eid}/edit"]:
        admin.goto(live_server.url + path)
        no_overflow(admin)
    if viewport is PHONE:
        admin.goto(f"{live_server.url}/entries/{eid}/edit")
        save_shot(admin, "edit-390")
        admin.goto(f"{live_server.url}/review")
        save_shot(admin, "review-390")
        admin.goto(f"{live_server.url}/admin/users")
        save_shot(admin, "admin-users-390")
        toggle = admin.get_by_role("button", name="菜单")
        assert not admin.locator("#mainnav").is_visible()
        toggle.click()
        links = admin.locator("#mainnav a")
        assert links.count() >= 7
        for i in range(links.count()):
            box = links.nth(i).evaluate("a => [a.scrollWidth, a.clientWidth]")
            assert box[0] <= box[1], f"nav label clipped: {links.nth(i).inner_text()}"
        no_overflow(admin)


def test_nav_shows_only_what_the_role_may_open(people: People) -> None:
    viewer = people.page("viewer1", "/")
    labels = viewer.locator("#mainnav a").all_inner_texts()
    assert "搜索" in labels
    assert not {"采编", "审核", "洞察", "管理", "我的草稿"} & set(labels)
    editor = people.page("editor1", "/")
    labels = editor.locator("#mainnav a").all_inner_texts()
    assert {"我的草稿", "采编"} <= set(labels) and not {"审核", "洞察", "管理"} & set(labels)


def test_widget_not_helpful_with_comment_opens_a_flag(
    people: People, live_server: LiveServer
) -> None:
    viewer = people.page("viewer1", "/demo/ticket")
    viewer.locator("#title").fill("医生站登不上")
    viewer.locator("#desc").fill("心内科门诊医生说登录提示证书无效")
    first = viewer.locator("[data-kbsvc-widget] li.item").first
    first.wait_for(timeout=15_000)
    first.get_by_role("button", name="没用").click()
    first.get_by_label("没用的原因（选填）").fill("证书助手里没有刷新按钮")
    first.get_by_role("button", name="提交反馈").click()
    first.locator(".note", has_text="感谢反馈").wait_for()
    assert "已提醒审核人复核" in first.locator(".note").inner_text()
    flags = api_get(live_server, "/api/v1/review-flags")["data"]
    assert "证书助手里没有刷新按钮" in [f["comment"] for f in flags]


def test_admin_purge_keeps_a_tombstone_for_citing_tickets(
    people: People, live_server: LiveServer
) -> None:
    with live_server.session() as s:
        leaked = make_entry(s, title="含患者姓名的条目", symptom="患者张三的腕带打不出")
        entries.link_ticket(
            s,
            entry_id=leaked.id or 0,
            source="helpdesk",
            external_id="GD-WEB-0901",
            kind=LinkKind.cited,
            actor="t",
        )
        s.commit()
    admin = people.page("admin1", f"/entries/{leaked.id}")
    admin.get_by_label("清除内容（管理员）").fill("症状中含患者姓名")
    admin.get_by_role("button", name="清除", exact=True).click()
    admin.locator(".callout-warn", has_text="内容已由管理员清除").wait_for()
    assert "张三" not in admin.content()
    cited = api_get(live_server, "/api/v1/tickets/helpdesk/GD-WEB-0901/citations")["data"]
    assert [c["entry_id"] for c in cited] == [leaked.id]
