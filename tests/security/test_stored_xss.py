"""Threat: text someone stored (an entry, a ticket, a handbook, a display name, a vocabulary
value, a feedback comment, what the widget captured) runs as script, or fetches a remote
resource, when another person views it. Twenty payloads in every text field, rendered in
Debian chromium through the web pages, the widget on /demo/ticket and the handbook HTML and
Markdown exports; PDF and DOCX exports carry them as text with no script, action or external
reference. Executed = a `__xss()` hook call, a dialog, a console line, or a hit on the
loopback listener the remote payloads point at. The tally prints payloads × surfaces."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from tests.security.xss_site import (
    PASSWORD,
    PAYLOADS,
    Listener,
    Seeded,
    marker,
    payload,
    seed,
    site_settings,
    start_listener,
)
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, free_port, serve_in_thread

pytestmark = pytest.mark.browser

HOOK = """
window.__xssHits = [];
window.__xss = function (n) { window.__xssHits.push(String(n)); console.log('XSS-FIRED ' + n); };
"""
# Anything the payloads could have turned into live markup: handlers, script URLs, srcdoc.
LIVE_MARKUP = r"""() => {
  const bad = [];
  const url = /^[\s\u0000-\u001f]*(javascript|vbscript):|127\.0\.0\.1:LISTENER/i;
  for (const el of document.querySelectorAll('*')) {
    if (el.tagName === 'SCRIPT' && /__xss|xss-17/.test(el.textContent)) bad.push('script');
    for (const a of el.attributes) {
      const v = a.value || '';
      const where = el.tagName + ' ' + a.name + '=' + v.slice(0, 80);
      if (/^on/i.test(a.name) && /__xss|xss-17/.test(v)) bad.push(where);
      // Links may carry payload text URL-encoded in a query, or point at the listener (a link
      // is not a fetch); never a script scheme. Anything that loads must not reach the listener.
      const script = /^[\s\u0000-\u001f]*(javascript|vbscript):/i;
      if (a.name === 'href' && script.test(v)) bad.push(where);
      if (['src', 'action', 'formaction', 'xlink:href'].includes(a.name) && url.test(v))
        bad.push(where);
      if (a.name === 'href' && el.tagName !== 'A' && url.test(v)) bad.push(where);
      if (['srcdoc', 'data', 'style'].includes(a.name) && /__xss|127\.0\.0\.1:LISTENER/.test(v))
        bad.push(where);
    }
  }
  return bad;
}"""
TALLY: dict[str, int] = {}


@dataclass
class Site:
    url: str
    listener: Listener
    seeded: Seeded
    admin_key: str
    handbook_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from api.app import create_app

    port = free_port()
    listener, httpd = start_listener(free_port())
    settings = site_settings(tmp_path_factory.mktemp("xss-data"), port)
    engine = db.make_engine(settings)
    db.upgrade(engine)
    seeded = seed(engine, listener.url)
    with db.session_scope(engine) as s:
        _row, key = auth_service.create_api_key(s, name="xss-admin", role=Role.admin)
    server, thread = serve_in_thread(create_app(settings, db_engine=engine), port)
    url = f"http://127.0.0.1:{port}"
    p1 = payload(1, listener.url)
    intro = "\n\n".join(payload(n, listener.url) for n in range(1, len(PAYLOADS) + 1))
    made = httpx.post(
        f"{url}/api/v1/handbooks",
        headers={"X-API-Key": key},
        json={
            "title": f"{p1[:150]} 手册",
            "subtitle": payload(2, listener.url),
            "intro": intro,
            "selection": {"query": "打印机"},
            "max_entries": 100,
        },
        timeout=60,
    )
    assert made.status_code == 201, made.text
    yield Site(url, listener, seeded, key, made.json()["id"])
    server.should_exit = True  # type: ignore[attr-defined]
    thread.join(timeout=10)
    httpd.shutdown()
    engine.dispose()
    print("\nstored XSS, payloads shown per surface:", TALLY, "total", sum(TALLY.values()))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Tab:
    page: Any
    dialogs: list[str]
    console: list[str]
    remote: list[str]


@pytest.fixture
def tab(chromium: Any, site: Site) -> Iterator[Tab]:
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_init_script(HOOK)
    pg = context.new_page()
    t = Tab(pg, [], [], [])

    def on_dialog(dialog: Any) -> None:
        t.dialogs.append(dialog.message)
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    pg.on("console", lambda m: t.console.append(m.text) if "XSS-FIRED" in m.text else None)
    pg.on("request", lambda r: t.remote.append(r.url) if site.listener.url in r.url else None)
    yield t
    context.close()


def login(t: Tab, site: Site, username: str) -> None:
    t.page.goto(f"{site.url}/login?next=/")
    t.page.get_by_label("用户名").fill(username)
    t.page.get_by_label("密码").fill(PASSWORD)
    t.page.get_by_role("button", name="登录").click()
    t.page.wait_for_url(f"{site.url}/*")


def assert_inert(t: Tab, site: Site, where: str) -> int:
    """Nothing ran or was fetched; returns how many payloads the surface showed."""
    hits = [h for f in t.page.frames for h in (f.evaluate("window.__xssHits || []") or [])]
    live = t.page.evaluate(LIVE_MARKUP.replace("LISTENER", str(site.listener.port)))
    assert (hits, t.dialogs, t.console, live) == ([], [], [], []), where
    assert t.remote == [] and site.listener.hits == [], (where, t.remote, site.listener.hits)
    html = t.page.content()
    return sum(marker(n) in html for n in range(1, len(PAYLOADS) + 1))


def visit(t: Tab, site: Site, surface: str, path: str) -> int:
    t.page.goto(site.url + path, wait_until="load")
    t.page.wait_for_timeout(50)  # let onerror/onload of broken images fire, if they could
    shown = assert_inert(t, site, path)
    TALLY[surface] = TALLY.get(surface, 0) + shown
    return shown


def test_web_pages_show_every_payload_as_text(tab: Tab, site: Site) -> None:
    login(tab, site, site.seeded.users[1])  # the header shows a payload display name
    ids = site.seeded
    for n in ids.entry_ids:
        assert visit(tab, site, "entry page", f"/entries/{ids.entry_ids[n]}") >= 1
        assert visit(tab, site, "entry edit form", f"/entries/{ids.entry_ids[n]}/edit") >= 1
        assert visit(tab, site, "capture form", f"/capture/ticket/{ids.ticket_ids[n]}") >= 1
        assert visit(tab, site, "in-review entry", f"/entries/{ids.review_ids[n]}") >= 1
    lists = {
        "search results": "/?q=打印机",
        "ticket list": "/capture?q=XSS",
        "review queue": "/review",
        "my page": "/my",
        "handbook list": "/handbooks",
        "handbook preview": f"/handbooks/{site.handbook_id}",
        "reports": "/reports",
        "reports drill-down": "/reports/tickets",
        "reports entries drill-down": "/reports/entries?set=published",
        "admin users": "/admin/users",
        "admin vocabulary": "/admin/vocab",
        "admin home": "/admin",
    }
    for surface, path in lists.items():
        visit(tab, site, surface, path)
    assert TALLY["review queue"] == len(PAYLOADS)  # titles, comments and author names
    assert TALLY["admin users"] == len(PAYLOADS)
    assert TALLY["handbook preview"] == len(PAYLOADS)


def test_payload_queries_are_reflected_as_text(tab: Tab, site: Site) -> None:
    login(tab, site, site.seeded.users[2])
    for n in range(1, len(PAYLOADS) + 1):
        q = httpx.QueryParams({"q": payload(n, site.listener.url)})
        assert visit(tab, site, "search query", f"/?{q}") >= 1


def test_widget_on_demo_ticket_shows_and_captures_payloads_as_text(tab: Tab, site: Site) -> None:
    login(tab, site, site.seeded.users[3])
    pg = tab.page
    pg.goto(f"{site.url}/demo/ticket")
    widget = "[data-kbsvc-widget]"
    for n in range(1, len(PAYLOADS) + 1):
        p = payload(n, site.listener.url)
        pg.locator("#title").fill(f"{p} 打印机")
        pg.locator("#desc").fill(f"打印机 {p}")
        pg.locator(f"{widget} li.item").first.wait_for(timeout=15_000)
        pg.wait_for_timeout(50)
        shown = pg.evaluate(
            "() => document.querySelector('[data-kbsvc-widget]').shadowRoot.textContent"
        )
        assert "XSS-" in shown
        TALLY["widget suggestions"] = TALLY.get("widget suggestions", 0) + sum(
            marker(k) in shown for k in range(1, len(PAYLOADS) + 1)
        )
        assert_inert(tab, site, f"widget payload {n}")
    # Save as knowledge: the widget-captured text becomes a draft, viewed in the web UI.
    pg.locator("#solution").fill("\n".join(payload(n, site.listener.url) for n in range(1, 21)))
    pg.locator("#workaround").fill(payload(4, site.listener.url))
    pg.locator(f"{widget} button.save").click()
    pg.wait_for_function(
        "() => /草稿/.test(document.querySelector('[data-kbsvc-widget]').shadowRoot"
        ".querySelector('.capture .note').textContent)",
        timeout=15_000,
    )
    assert_inert(tab, site, "widget capture")
    drafts = httpx.get(
        f"{site.url}/api/v1/entries",
        params={"status": "draft", "limit": 10},
        headers={"X-API-Key": site.admin_key},
    ).json()["data"]
    assert drafts, "the widget saved no draft"
    for d in drafts:
        assert visit(tab, site, "widget-captured draft", f"/entries/{d['id']}") >= 1
        visit(tab, site, "widget-captured draft (capture form)", f"/capture/{d['id']}")


def _export(site: Site, fmt: str) -> bytes:
    r = httpx.get(
        f"{site.url}/api/v1/handbooks/{site.handbook_id}/export",
        params={"format": fmt},
        headers={"X-API-Key": site.admin_key},
        timeout=300,
    )
    assert r.status_code == 200, r.text[:300]
    return r.content


def _shown(text: str) -> int:
    """Payloads whose marker survived (PDF text extraction may drop the middle dot)."""
    found = {int(m) for m in re.findall(r"XSS-(\d\d)", text)}
    return len(found & set(range(1, len(PAYLOADS) + 1)))


def test_handbook_html_and_markdown_exports_are_inert_in_a_browser(tab: Tab, site: Site) -> None:
    html = _export(site, "html").decode()
    tab.page.set_content(html, wait_until="load")
    tab.page.wait_for_timeout(100)
    TALLY["handbook HTML export"] = assert_inert(tab, site, "handbook html")
    assert TALLY["handbook HTML export"] == len(PAYLOADS)

    md = _export(site, "md").decode()
    TALLY["handbook Markdown export"] = _shown(md)
    # Rendered as a permissive viewer would (raw HTML on, every link scheme allowed), the
    # escaped Markdown still yields no link, image, raw tag or script URL.
    viewer = MarkdownIt("commonmark", {"html": True})
    viewer.validateLink = lambda _url: True
    rendered = viewer.render(md)
    assert not re.search(r"<(img|script|svg|iframe|style|object|embed|math)\b", rendered)
    hrefs = re.findall(r'<a href="([^"]*)"', rendered)
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs  # never javascript:
    tab.page.set_content(rendered, wait_until="load")
    tab.page.wait_for_timeout(100)
    assert assert_inert(tab, site, "rendered markdown") == len(PAYLOADS)


def test_handbook_pdf_and_docx_carry_payloads_as_text_only(site: Site) -> None:
    from pypdf import PdfReader

    pdf = _export(site, "pdf")
    for needle in (b"/JavaScript", b"/JS ", b"/Launch", b"/SubmitForm", b"/OpenAction"):
        assert needle not in pdf
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    uris = [
        str(a.get_object()["/A"].get("/URI", ""))
        for page in reader.pages
        for a in page.get("/Annots") or []
        if "/A" in a.get_object()
    ]
    assert all(u.startswith(site.url + "/entries/") for u in uris if u), uris
    TALLY["handbook PDF export"] = _shown(text.replace("\n", ""))
    assert TALLY["handbook PDF export"] == len(PAYLOADS)

    docx = _export(site, "docx")
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        xml = {name: z.read(name).decode("utf-8", "replace") for name in z.namelist()}
    rels = "".join(v for k, v in xml.items() if k.endswith(".rels"))
    assert "javascript:" not in rels.lower() and site.listener.url not in rels
    externals = re.findall(r'Target="([^"]+)"\s+TargetMode="External"', rels)
    assert all(t.startswith(site.url + "/entries/") for t in externals), externals
    # Field codes fetch or link at open time (INCLUDEPICTURE, HYPERLINK): only our own.
    fields = re.findall(r"<w:instrText[^>]*>([^<]*)<", xml["word/document.xml"])
    fields += re.findall(r'w:instr="([^"]*)"', xml["word/document.xml"])
    assert not [f for f in fields if re.search(r"INCLUDE|javascript|127\.0\.0\.1:\d", f)], fields
    everything = "".join(xml.values())
    assert "<w:altChunk" not in everything and "attachedTemplate" not in everything
    TALLY["handbook DOCX export"] = _shown(xml["word/document.xml"])
    assert TALLY["handbook DOCX export"] == len(PAYLOADS)
    assert site.listener.hits == []


def test_reports_exports_carry_payloads_as_text(site: Site) -> None:
    from pypdf import PdfReader

    from kbsvc.timeutil import utcnow

    month = utcnow().strftime("%Y-%m")
    r = httpx.get(
        f"{site.url}/api/v1/reports/monthly.pdf",
        params={"month": month},
        headers={"X-API-Key": site.admin_key},
        timeout=300,
    )
    assert r.status_code == 200, r.text[:300]
    assert b"/JavaScript" not in r.content and b"/Launch" not in r.content
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(r.content)).pages)
    TALLY["monthly report PDF"] = _shown(text.replace("\n", ""))
    assert TALLY["monthly report PDF"] >= 10  # the month's most reused entries, systems…
    assert site.listener.hits == []
