"""The knowledge loop's pages without a browser: edit, capture, review, compare, browse."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import SYSTEM, Role
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryStatus, EntryUpdate, LinkKind
from tests.factories import make_entry, make_ticket

PASSWORD = "loop-pages-pass-1"


def _login(client: TestClient, session: Session, name: str, role: Role) -> dict[str, str]:
    auth_service.create_user(
        session, username=name, role=role, password=PASSWORD, display_name=f"{name}老师"
    )
    session.commit()
    r = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def test_edit_page_of_published_entry_proposes_a_revision(
    client: TestClient, session: Session
) -> None:
    entry = make_entry(session)
    csrf = _login(client, session, "lisi", Role.editor)
    html = client.get(f"/entries/{entry.id}/edit").text
    assert "修改已发布的条目" in html and "待审核的修改" in html
    r = client.patch(
        f"/api/v1/entries/{entry.id}",
        json={"solution": "直接重装电脑即可。", "base_version": 1},
        headers=csrf,
    )
    assert r.status_code == 200 and r.json()["pending_revision"]["status"] == "draft"
    page = client.get(f"/entries/{entry.id}").text
    assert "有待审核的修改" in page and "更新CA证书后重新登录" in page
    assert "直接重装电脑即可。" in client.get(f"/entries/{entry.id}/edit").text
    my = client.get("/my").text
    assert "对已发布条目的修改" in my and entry.title in my


def test_capture_form_creates_nothing_until_saved(client: TestClient, session: Session) -> None:
    ticket = make_ticket(session, title="药房发药机屏幕触摸失灵", solution="重新校准触摸屏")
    csrf = _login(client, session, "wangwu", Role.editor)
    before = session.execute(select(func.count()).select_from(Entry)).scalar_one()
    html = client.get(f"/capture/ticket/{ticket.id}").text
    assert "药房发药机屏幕触摸失灵" in html and "不会创建任何记录" in html
    assert session.execute(select(func.count()).select_from(Entry)).scalar_one() == before
    body = {"title": "发药机触摸屏失灵", "solution": "进入维护模式后重新校准", "tags": ["发药机"]}
    r = client.post(f"/api/v1/tickets/{ticket.id}/capture", json=body, headers=csrf)
    assert r.status_code == 201 and r.json()["title"] == "发药机触摸屏失灵"
    again = client.get(f"/capture/ticket/{ticket.id}").text
    assert "已经采编过了" in again and f"/entries/{r.json()['id']}/edit" in again
    r2 = client.post(f"/api/v1/tickets/{ticket.id}/capture", json=body, headers=csrf)
    assert r2.status_code == 200 and r2.json()["id"] == r.json()["id"]  # no second draft


def test_review_page_shows_revision_diff_and_flags(client: TestClient, session: Session) -> None:
    entry = make_entry(session)
    draft = make_entry(session, title="新的草稿条目", status=EntryStatus.in_review)
    from kbsvc.auth.models import Principal
    from kbsvc.entries import revisions, workflow

    editor = Principal(kind="user", name="lisi", role=Role.editor)
    revisions.edit(
        session,
        entry_id=entry.id or 0,
        data=EntryUpdate(solution="重新插拔CA Key"),
        principal=editor,
        base_version=1,
    )
    workflow.transition(
        session, entry_id=entry.id or 0, action="submit", actor="user:lisi", principal=SYSTEM
    )
    session.commit()
    _login(client, session, "zhaoliu", Role.reviewer)
    html = client.get("/review").text
    assert "修改已发布条目" in html and "重新插拔CA Key" in html and "更新CA证书后重新登录" in html
    assert html.index(draft.title) < html.index(entry.title)  # longest waiting first
    assert "读者反馈" in html


def test_compare_versions_and_chinese_notes(client: TestClient, session: Session) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    entries.update(
        session,
        entry_id=entry.id or 0,
        data=EntryUpdate(cause="证书到期"),
        actor="user:lisi",
        base_version=1,
        principal=SYSTEM,
    )
    session.commit()
    _login(client, session, "lisi", Role.editor)
    html = client.get(f"/entries/{entry.id}/compare", params={"from": 1, "to": 2}).text
    assert "CA Key证书过期" in html and "证书到期" in html and "有改动" in html
    page = client.get(f"/entries/{entry.id}").text
    assert "lisi老师" in page and "user:lisi" not in page and ">edited<" not in page
    assert '<span class="account-name" title="编辑">lisi老师</span>' in page


def test_browse_by_system_and_long_query(client: TestClient, session: Session) -> None:
    make_entry(session, title="PACS影像调阅很慢", system="PACS")
    his = make_entry(session, title="HIS发票打印机卡纸")
    entries.link_ticket(
        session,
        entry_id=his.id or 0,
        source="itsm",
        external_id="INC-1",
        kind=LinkKind.cited,
        actor="t",
    )
    session.commit()
    _login(client, session, "viewer1", Role.viewer)
    html = client.get("/", params={"system": "HIS"}).text
    assert "共 1 条知识" in html
    assert "HIS发票打印机卡纸" in html and "PACS影像" not in html
    long_q = client.get("/", params={"q": "打印机卡纸" * 300})
    assert long_q.status_code == 200 and "问题描述太长" in long_q.text


def test_pages_answer_errors_in_chinese_and_the_api_in_json(
    client: TestClient, session: Session
) -> None:
    _login(client, session, "viewer2", Role.viewer)
    html = {"Accept": "text/html,application/xhtml+xml"}
    bad = client.get("/", params={"page": "abc"}, headers=html)
    assert (
        bad.status_code == 422
        and "参数不正确" in bad.text
        and "text/html" in bad.headers["content-type"]
    )
    missing = client.get("/no-such-page", headers=html)
    assert missing.status_code == 404 and "页面不存在" in missing.text
    api = client.get("/api/v1/entries", params={"limit": "abc"}, headers=html)
    assert api.status_code == 422 and api.json()["code"] == "validation_failed"
