"""Threat: text stored in an entry or a handbook makes the server fetch a URL while it renders
a handbook or a report (SSRF), or pulls a local file into the document. Every vector below is
stored in entry fields and the handbook's title, subtitle and intro; the handbook is exported
in all four formats and the monthly report as PDF. A loopback listener records requests: it
must see none, and no PDF may carry /etc/passwd (as text or as an attachment)."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session

from kbsvc.timeutil import utcnow
from tests.factories import make_entry, make_ticket
from tests.security.xss_site import Listener, start_listener
from tests.web.conftest import free_port

VECTORS = [
    "{u}/plain-url",
    '<img src="{u}/img.png">',
    "![x]({u}/markdown.png)",
    '<link rel="stylesheet" href="{u}/link.css">',
    '<style>@import url("{u}/import.css"); body {{ background: url({u}/body-bg.png) }}</style>',
    "<style>@import 'file:///etc/passwd';</style>",
    "<div style=\"background-image: url('{u}/style-attr.png')\">x</div>",
    '<div style="background: url(file:///etc/passwd)">x</div>',
    '<img src="file:///etc/passwd">',
    '<object data="file:///etc/passwd"></object><embed src="{u}/embed">',
    '<iframe src="file:///etc/passwd"></iframe><iframe src="{u}/iframe"></iframe>',
    '<link rel="attachment" href="file:///etc/passwd"><a rel="attachment" href="{u}/att">a</a>',
    '<svg><image href="{u}/svg-image.png"/></svg>',
    '<img srcset="{u}/srcset.png 2x">',
    '<video poster="{u}/poster.png"></video><audio src="{u}/audio"></audio>',
    '<base href="{u}/"><img src="relative.png">',
    '<meta http-equiv="refresh" content="0;url={u}/refresh">',
    "@font-face {{ font-family: x; src: url({u}/font.woff) }}",
]


@pytest.fixture
def listener() -> Iterator[Listener]:
    rec, httpd = start_listener(free_port())
    yield rec
    httpd.shutdown()
    httpd.server_close()


def _no_passwd(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() or "" for p in reader.pages)
    assert "root:x:0:0" not in text and b"root:x:0:0" not in pdf
    assert reader.attachments == {} and b"/EmbeddedFile" not in pdf


def _searchable(client: TestClient, headers: dict[str, str], q: str, n: int) -> None:
    """Wait for the index to follow entries written straight to the database (≤ 1 s by design)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        r = client.get("/api/v1/search", params={"q": q, "k": 50}, headers=headers)
        if r.status_code == 200 and len(r.json()["data"]) >= n:
            return
        time.sleep(0.2)
    raise AssertionError(f"{n} entries for {q!r} not searchable after 15 s")


def test_handbook_and_report_rendering_never_fetch(
    client: TestClient, session: Session, admin_headers: dict[str, str], listener: Listener
) -> None:
    vectors = [v.format(u=listener.url) for v in VECTORS]
    for i, v in enumerate(vectors):
        make_entry(
            session,
            title=f"打印机故障{i} {v}"[:300],
            symptom=f"打印机 {v}",
            cause=v,
            solution=v,
            workaround=v,
            system="HIS",
            department=v[:100],
            tags=["打印机"],
        )
        make_ticket(session, title=f"打印机{i}", system=v[:100], department=v[:100])
    session.commit()
    _searchable(client, admin_headers, "打印机", len(vectors))
    made = client.post(
        "/api/v1/handbooks",
        headers=admin_headers,
        json={
            "title": vectors[1][:200],
            "subtitle": vectors[4][:300],
            "intro": "\n\n".join(vectors),
            "selection": {"query": "打印机"},
        },
    )
    assert made.status_code == 201, made.text
    hid = made.json()["id"]
    exported = {}
    for fmt in ("pdf", "docx", "html", "md"):
        r = client.get(f"/api/v1/handbooks/{hid}/export?format={fmt}", headers=admin_headers)
        assert r.status_code == 200, (fmt, r.text[:300])
        exported[fmt] = r.content
    _no_passwd(exported["pdf"])
    text = "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(exported["pdf"])).pages)
    assert "file:///etc/passwd" in text.replace("\n", "")  # shown as text, not followed
    month = utcnow().strftime("%Y-%m")
    report = client.get(f"/api/v1/reports/monthly.pdf?month={month}", headers=admin_headers)
    assert report.status_code == 200, report.text[:300]
    _no_passwd(report.content)
    page = client.get(f"/handbooks/{hid}", headers=admin_headers)
    assert page.status_code in (200, 303)
    assert listener.hits == [], listener.hits
    # Control: the same vectors given to WeasyPrint's default fetcher do reach the listener,
    # so a zero above means refused, not a harness that cannot see fetches.
    from weasyprint import HTML

    HTML(string="".join(vectors)).write_pdf()
    assert len(set(listener.hits)) >= 5, listener.hits
    print(f"\nSSRF: {len(VECTORS)} vectors × 6 renderings, listener hits 0")
