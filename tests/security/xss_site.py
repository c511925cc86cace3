"""Stored-XSS payloads and a live kbsvc whose every text field carries them (for the browser
suite): entries (all text fields, tags), tickets, handbooks, display names, vocabulary,
feedback comments, widget captures. A loopback listener records any fetch a payload causes."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryCreate, EntryStatus, LinkKind
from kbsvc.feedback import service as feedback
from kbsvc.feedback.models import FlagReason
from kbsvc.vocab import service as vocab
from kbsvc.vocab.models import VocabKind, VocabTermIn
from tests.factories import make_ticket

PASSWORD = "xss-test-pass-1"
# `__xss(n)` is defined by the page hook (tests/security/test_stored_xss.py); `{remote}` is the
# recording listener. Each stored value starts with a visible marker `XSS-nn·`, so a test can
# count on which surface a payload was shown (as text) and that none of them ran.
PAYLOADS: list[tuple[str, str]] = [
    ("script tag", "<script>__xss(1)</script>"),
    ("img onerror", '<img src=x onerror="__xss(2)">'),
    ("svg onload", "<svg/onload=__xss(3)>"),
    ("javascript: link", '<a href="javascript:__xss(4)" id="jslink">点我</a>'),
    ("markdown javascript: link", "[点我](javascript:__xss(5))"),
    ("markdown remote image", "![远程图片]({remote}/md.png)"),
    ("css expression", '<div style="width:expression(__xss(7));background:url({remote}/bg.png)">'),
    ("template injection", "{{{{7*7}}}}${{7*7}}{{{{constructor.constructor('__xss(8)')()}}}}"),
    ("attribute breakout", '"><script>__xss(9)</script><input value="'),
    ("single-quote breakout", "' autofocus onfocus='__xss(10)' x='"),
    ("fullwidth brackets", "＜script＞__xss(11)＜/script＞"),
    ("bidi and zero-width", "\u202e<scr\u200bipt>__xss(12)</scr\u200bipt>\u202c"),
    ("pre-escaped entities", "&lt;img src=x onerror=__xss(13)&gt;&#x3C;script&#x3E;__xss(13)"),
    ("iframe srcdoc", '<iframe srcdoc="<script>parent.__xss(14)</script>"></iframe>'),
    ("closing tags", "</textarea></title></style></script><script>__xss(15)</script>"),
    ("mutation", "<math><mtext><table><mglyph><style><img src=x onerror=__xss(16)>"),
    ("alert dialog", "<img src=x onerror=alert('xss-17')>"),
    ("remote img tag", '<img src="{remote}/img.png">'),
    ("css import", "<style>@import url({remote}/import.css);</style>"),
    ("object data", '<object data="javascript:__xss(20)"></object><embed src="{remote}/e">'),
]


def marker(n: int) -> str:
    return f"XSS-{n:02d}·"


@dataclass
class Listener:
    """A loopback HTTP server that records every request it gets."""

    port: int
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_listener(port: int) -> tuple[Listener, http.server.ThreadingHTTPServer]:
    rec = Listener(port)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            rec.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"root:x:0:0:fetched")

        def log_message(self, *_a: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return rec, httpd


def payload(n: int, remote: str) -> str:
    """The n-th payload (1-based) with its visible marker."""
    return marker(n) + PAYLOADS[n - 1][1].format(remote=remote)


@dataclass
class Seeded:
    entry_ids: dict[int, int] = field(default_factory=dict)  # payload n → published entry
    review_ids: dict[int, int] = field(default_factory=dict)  # payload n → in_review entry
    ticket_ids: dict[int, int] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)  # payload n → username


def seed(engine: Engine, remote: str) -> Seeded:
    """Store every payload in every text field a person can write."""
    out = Seeded()
    with db.session_scope(engine) as s:
        for n in range(1, len(PAYLOADS) + 1):
            p = payload(n, remote)
            name = f"xss{n:02d}"
            auth_service.create_user(
                s, username=name, role=Role.admin, password=PASSWORD, display_name=p[:100]
            )
            out.users[n] = name
            ticket = make_ticket(
                s,
                source="helpdesk",
                external_id=f"XSS-T{n:02d}",
                title=f"{p} 打印机",
                symptom=p,
                cause=p,
                solution=p,
                workaround=p,
                system=p[:100],
                module=p[:100],
                department=p[:100],
                category=p[:100],
                handler=p[:100],
                tags=[p[:50]],
            )
            out.ticket_ids[n] = ticket.id or 0
            data = EntryCreate(
                title=f"{p} 打印机",
                symptom=f"现象 {p}",
                cause=f"原因 {p}",
                solution=f"处理 {p}",
                workaround=f"应急 {p}",
                system=p[:100],
                module=p[:100],
                department=p[:100],
                category=p[:100],
                tags=[p[:50], "打印机"],
            )
            e = entries.create(s, data=data, actor=name, status=EntryStatus.published)
            out.entry_ids[n] = e.id or 0
            entries.link_ticket(
                s,
                entry_id=e.id or 0,
                source="helpdesk",
                external_id=ticket.external_id,
                kind=LinkKind.source,
                actor=name,
            )
            cited = make_ticket(s, source="helpdesk", external_id=f"XSS-C{n:02d}", title=p)
            entries.link_ticket(
                s,
                entry_id=e.id or 0,
                source="helpdesk",
                external_id=cited.external_id,
                kind=LinkKind.cited,
                actor=name,
            )
            review = entries.create(
                s,
                data=EntryCreate(title=f"待审 {p}", symptom=p, solution=p, tags=[p[:50]]),
                actor=name,
                status=EntryStatus.in_review,
            )
            out.review_ids[n] = review.id or 0
            feedback.raise_flag(
                s,
                entry_id=e.id or 0,
                reason=FlagReason.manual,
                comment=f"反馈 {p}",
                actor=name,
                notify=False,
            )
            vocab.create(s, data=VocabTermIn(kind=VocabKind.system, value=p[:100]))
        s.flush()
    return out


def site_settings(data_dir: Path, port: int) -> Settings:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=data_dir,
        database_url="",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    settings.rate_limit.login_per_minute = 10_000
    return settings


def iter_payloads() -> Iterator[tuple[int, str]]:
    for n, (name, _p) in enumerate(PAYLOADS, start=1):
        yield n, name
