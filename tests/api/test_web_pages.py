"""Web UI routes without a browser: access rules, headers, escaping, the demo widget key."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from api.web.render import snippet_parts
from kbsvc.auth.models import ApiKey, Role
from kbsvc.config import Settings
from tests.factories import make_entry


def open_client(settings: Settings, engine) -> TestClient:  # type: ignore[no-untyped-def]
    from api.app import create_app

    settings.open_reads = True
    return TestClient(create_app(settings, db_engine=engine))


def test_snippet_parts_unescape_text_and_keep_marks() -> None:
    parts = snippet_parts("医生站<mark>登录</mark>提示 &lt;b&gt;证书&amp;无效")
    assert parts == [("医生站", False), ("登录", True), ("提示 <b>证书&无效", False)]
    assert snippet_parts("") == []


def test_pages_redirect_to_login_without_a_session(client: TestClient) -> None:
    for path in ("/", "/entries/1", "/capture", "/review", "/demo/ticket"):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/login?next=")
    assert client.get("/login").status_code == 200


def test_login_next_is_same_site_only(client: TestClient) -> None:
    for bad in ("https://evil.example/", "//evil.example", "/\\evil"):
        page = client.get("/login", params={"next": bad}).text
        assert 'data-next="/"' in page


def test_open_reads_allow_search_but_not_editor_pages(
    settings: Settings,
    engine,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    make_entry(session, title="门诊医生站<script>alert(1)</script>无法登录")
    with open_client(settings, engine) as c:
        home = c.get("/")
        assert home.status_code == 200
        assert "例如：门诊医生站登不上怎么办" in home.text
        entry = c.get("/entries/1")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry.text
        assert "<script>alert(1)" not in entry.text
        assert entry.headers["cache-control"] == "no-store"
        missing = c.get("/entries/999")
        assert missing.status_code == 404 and "记录不存在" in missing.text
        assert c.get("/capture", follow_redirects=False).status_code == 303
        assert c.get("/review", follow_redirects=False).status_code == 303


def test_pages_have_no_inline_script_or_style(
    settings: Settings,
    engine,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    make_entry(session)
    with open_client(settings, engine) as c:
        for path in ("/", "/?q=医生站登录", "/entries/1", "/login", "/demo/ticket"):
            html = c.get(path).text
            assert "style=" not in html, path
            for chunk in html.split("<script")[1:]:
                assert chunk.lstrip().startswith("src="), path


def test_widget_script_headers_and_etag(client: TestClient) -> None:
    resp = client.get("/widget.js")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/javascript")
    assert "max-age=" in resp.headers["cache-control"]
    assert resp.headers["cross-origin-resource-policy"] == "cross-origin"
    again = client.get("/widget.js", headers={"If-None-Match": resp.headers["etag"]})
    assert again.status_code == 304
    assert "innerHTML" not in resp.text and "insertAdjacentHTML" not in resp.text


def test_demo_ticket_key_is_a_widget_key_bound_to_the_public_url(
    settings: Settings,
    engine,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    with open_client(settings, engine) as c:
        first = c.get("/demo/ticket").text
        second = c.get("/demo/ticket").text
    key = first.split('data-kbsvc-key="')[1].split('"')[0]
    assert key and key in second  # created once per process and origin
    rows = session.execute(select(ApiKey).where(ApiKey.revoked.is_(False))).scalars().all()  # type: ignore[attr-defined]
    demo = [r for r in rows if r.name.startswith("demo-widget")]
    assert len(demo) == 1
    assert Role(demo[0].role) is Role.widget
    # Not the request's Host (tests/security/test_demo_key_minting.py): the configured URL's.
    assert demo[0].origins == [settings.public_base_url]


def test_pages_with_an_entry_id_use_the_api_visibility_guard(
    client: TestClient, session: Session
) -> None:
    """Regression: an editor of 骨科 opened /capture/{id} of a 内科-only entry and saw it."""
    from kbsvc.auth import service as auth_service
    from kbsvc.entries.models import EntryStatus

    auth_service.create_user(
        session, username="gk", role=Role.editor, password="s3cret-pass", departments=["骨科"]
    )
    hidden = make_entry(
        session,
        status=EntryStatus.draft,
        title="内科专用：输液系统配置",
        restricted_departments=["内科"],
    )
    shown = make_entry(session, status=EntryStatus.draft, title="骨科可见的草稿")
    login = {"username": "gk", "password": "s3cret-pass"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 200
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    missing = client.get("/capture/99999")
    assert missing.status_code == 404
    for path in (f"/capture/{hidden.id}", f"/entries/{hidden.id}"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "内科专用" not in r.text and "记录不存在" in r.text
        assert r.headers["content-type"].startswith("text/html")
    # A hidden id answers exactly what a missing id answers, so ids do not leak.
    hidden_page = client.get(f"/capture/{hidden.id}").text
    assert hidden_page.replace(f"编号为 {hidden.id} ", "编号为 N ") == missing.text.replace(
        "编号为 99999 ", "编号为 N "
    )
    ok = client.get(f"/capture/{shown.id}")  # old links open the edit form
    assert ok.status_code == 200 and "骨科可见的草稿" in ok.text
    edit = client.get(f"/entries/{hidden.id}/edit")
    assert edit.status_code == 404 and "内科专用" not in edit.text


def test_demo_ticket_keeps_its_number_in_the_address(
    settings: Settings,
    engine,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    with open_client(settings, engine) as c:
        first = c.get("/demo/ticket", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"].startswith("/demo/ticket?ticket=HD-")
        html = c.get("/demo/ticket?ticket=HD-20250314-0815").text
        assert 'value="HD-20250314-0815"' in html
        assert c.get("/demo/ticket?ticket=<x>").status_code == 422
