"""Markdown and HTML exports: structure, and entry text that can only ever be text."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.handbooks import assemble
from kbsvc.handbooks.document import HandbookDoc
from kbsvc.handbooks.models import HandbookCreate, Selection
from kbsvc.handbooks.render import html, markdown
from tests.kbsvc.handbooks.conftest import KB, XSS_TITLE


@pytest.fixture(scope="module")
def doc(kb: KB) -> HandbookDoc:
    with Session(kb.engine) as session:
        data = HandbookCreate(
            title="医院信息系统常见故障<script>x</script>",
            subtitle="培训用",
            intro="前言第一段\n\n<iframe src=//evil>",
            selection=Selection(),
        )
        return assemble.build_adhoc(
            session, data=data, settings=kb.settings, search=kb.search, principal=SYSTEM
        )


def visible_text(fragment: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", fragment))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab中文 \n#*_`[]()<>&!|~-+=.1)\\:/\"'")), max_size=40))
def test_escaped_markdown_renders_back_to_the_same_text(text: str) -> None:
    rendered = MarkdownIt("js-default").render(markdown.escape(text))
    assert "<a " not in rendered and "<img" not in rendered and "<code" not in rendered
    assert "<h" not in rendered and "<li" not in rendered and "<em" not in rendered
    expected = [ln.strip() for ln in text.strip().split("\n") if ln.strip()]
    got = [ln.strip() for ln in visible_text(rendered).split("\n") if ln.strip()]
    assert "".join(got).replace(" ", "") == "".join(expected).replace(" ", "")


def test_markdown_structure(doc: HandbookDoc) -> None:
    text = markdown.render(doc)
    assert text.startswith("# 医院信息系统常见故障\\<script\\>x\\</script\\>")
    assert "\n# 第1章 HIS\n" in text and "\n# 第2章 LIS\n" in text
    assert "\n## 1.1 门诊医生站\n" in text
    assert "\n### 1.1.1 门诊医生站CA证书过期无法登录\n" in text
    for label in (
        "**故障现象**",
        "**原因分析**",
        "**处理方法**",
        "**应急处理**",
        "适用系统：HIS",
        "引用次数：6",
    ):
        assert label in text
    assert f"<http://127.0.0.1:8000/entries/{doc.chapters[0].sections[0].entries[0].id}>" in text
    assert "本版变更" not in text  # a live rendering has no previous edition


def test_markdown_escapes_entry_text(doc: HandbookDoc) -> None:
    text = markdown.render(doc)
    assert not re.search(r"(?<!\\)<(script|img|iframe|b )", text), "every < is escaped"
    assert "\\<img src=x onerror=alert(1)\\>" in text
    assert "\\[x\\](javascript:alert(1))" in text
    rendered = MarkdownIt("commonmark").render(text)  # even a renderer that allows raw HTML
    assert "<script>" not in rendered and "<img" not in rendered
    assert 'href="javascript' not in rendered


def test_html_is_inert(doc: HandbookDoc) -> None:
    page = html.render(doc)
    assert "<script" not in page.lower()
    assert not re.search(r"<[^>]+\son\w+\s*=", page), "no event-handler attribute in any tag"
    assert not re.search(r"""href\s*=\s*["']?\s*javascript:""", page, re.I)
    assert "<iframe" not in page and "<b " not in page
    # The dangerous text is still there for the reader, as text.
    assert htmllib.escape(XSS_TITLE, quote=False) in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_has_cover_toc_and_print_css(doc: HandbookDoc) -> None:
    page = html.render(doc, qr=True)
    assert '<section class="cover">' in page and '<nav class="toc" id="toc">' in page
    assert 'href="#ch-1"' in page and 'id="ch-1"' in page and 'id="sec-1-1"' in page
    assert "break-before: page" in page and "@page" in page
    # Screen HTML has no page numbers; the PDF sets them from its own layout (render/pdf.py).
    assert 'class="toc-page' not in page
    assert "Noto Serif CJK SC" in page
    assert page.count('src="data:image/png;base64,') == doc.entry_count


@pytest.mark.parametrize(
    "intro",
    [
        "![远程图片](http://127.0.0.1:9/x.png)",
        "[点我](javascript:alert(1))",
        "[点我]( JavaScript:alert(1))",
        "[点我](&#106;avascript:alert(1))",
        "[点我](data:text/html,<script>alert(1)</script>)",
        "[r]\n\n[r]: javascript:alert(1)",
        "[r]\n\n[r]: &#106;avascript:alert(1)",
        '<img src="http://127.0.0.1:9/x.png"> <a href="javascript:alert(1)">x</a>',
    ],
)
def test_trainer_markdown_is_inert_in_a_permissive_reader(intro: str) -> None:
    reader = MarkdownIt("commonmark", {"html": True})  # raw HTML on, every scheme accepted
    reader.validateLink = lambda _url: True
    page = reader.render(markdown.trainer_markdown(intro))
    assert "<img" not in page and "<script" not in page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(h.startswith(("http://", "https://", "mailto:", "/")) for h in hrefs), hrefs
