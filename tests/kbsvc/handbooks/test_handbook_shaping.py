"""A handbook a trainer shapes: picked, dropped and ordered entries, an intro and chapter notes,
each entry once, in PDF (pdftotext) and DOCX (python-docx) alike, with the book's properties."""

from __future__ import annotations

import io
import re
import subprocess
from datetime import timedelta

import pytest
from docx import Document
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.config import ExchangeSettings, Settings
from kbsvc.handbooks import assemble, export, service
from kbsvc.handbooks.document import HandbookDoc
from kbsvc.handbooks.models import ExportFormat, HandbookCreate, Selection, Shaping
from kbsvc.timeutil import utcnow
from tests.factories import make_entry
from tests.kbsvc.handbooks.conftest import KB

INTRO = (
    "## 培训目标\n\n本手册供**新入职**工程师使用。\n\n- 先读检验系统一章\n- 再读护士站打印\n\n"
    "<script>alert(1)</script>\n\n[危险链接](javascript:alert(1))"
)
NOTE = "检验科**夜班**只有一人值守，先打电话确认。"
# Reading order the trainer set: a picked HIS entry first, then three LIS ones.
ORDER_KEYS = ["wrist", "lis-login", "lis-result", "lis-barcode"]
SITE = "市第一人民医院信息科"


@pytest.fixture(scope="module")
def site_settings(kb: KB) -> Settings:
    return kb.settings.model_copy(update={"exchange": ExchangeSettings(site_name=SITE)})


@pytest.fixture(scope="module")
def doc(kb: KB, site_settings: Settings) -> HandbookDoc:
    with Session(kb.engine, expire_on_commit=False) as session:
        # Same title as lis-barcode, fewer citations: a duplicate the book must not print twice.
        make_entry(session, title="检验条码打印机不出纸", system="LIS", module="标本采集")
        session.commit()
        kb.search.sync()
        ids = kb.ids
        handbook = service.create(
            session,
            data=HandbookCreate(
                title="检验与护理常见故障",
                intro=INTRO,
                selection=Selection(systems=["LIS"]),
                shaping=Shaping(
                    pinned=[ids["wrist"]],
                    excluded=[ids["lis-qc"]],
                    order=[ids[k] for k in ORDER_KEYS],
                    chapter_notes={"LIS": NOTE},
                ),
            ),
            actor="test",
        )
        session.commit()
        return assemble.build_document(
            session,
            handbook_id=handbook.id or 0,
            settings=site_settings,
            search=kb.search,
            principal=SYSTEM,
        )


def test_exactly_the_shaped_entries_in_order(doc: HandbookDoc, kb: KB) -> None:
    assert [e.id for e in doc.entries] == [kb.ids[k] for k in ORDER_KEYS]
    assert [c.title for c in doc.chapters] == ["HIS", "LIS"]
    assert doc.chapters[1].note == NOTE and doc.chapters[0].note == ""


def pdf_text(body: bytes) -> str:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=body, capture_output=True, check=True
    )
    return re.sub(r"\s+", "", out.stdout.decode("utf-8"))


def numbered_titles(text: str) -> list[str]:
    """Entry headings ("1.1.1门诊…") in the order they appear."""
    return re.findall(r"\d+\.\d+\.\d+([^\d\s适]{4,40}?)适用系统", text)


def test_pdf_holds_the_intro_note_and_exact_entries(
    doc: HandbookDoc, kb: KB, site_settings: Settings
) -> None:
    text = pdf_text(export.render(doc, ExportFormat.pdf, site_settings))
    titles = [e.title for e in doc.entries]
    assert numbered_titles(text) == titles
    assert "质控规则未生效" not in text  # dropped
    assert text.count("1.1.1住院护士站腕带打印错位") == 1
    assert all(text.count(f"{t}，科室反映") == 1 for t in titles)  # each body once
    assert "培训目标" in text and "本手册供新入职工程师使用" in text and "先读检验系统一章" in text
    # Raw HTML and an unsafe link stay visible as the literal text the trainer typed.
    assert "<script>alert(1)</script>" in text and "[危险链接](javascript:alert(1))" in text
    assert text.index("检验科夜班只有一人值守") > text.index("第2章LIS")


def test_docx_holds_the_intro_note_exact_entries_and_properties(
    doc: HandbookDoc, site_settings: Settings
) -> None:
    document = Document(io.BytesIO(export.render(doc, ExportFormat.docx, site_settings)))
    entry_heads = [p.text for p in document.paragraphs if p.style.name == "Heading 3"]
    assert [h.split(" ", 1)[1] for h in entry_heads] == [e.title for e in doc.entries]
    texts = [p.text for p in document.paragraphs]
    intro = next(p for p in document.paragraphs if p.text == "本手册供新入职工程师使用。")
    assert [r.text for r in intro.runs if r.bold] == ["新入职"]
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    assert bullets[:2] == ["先读检验系统一章", "再读护士站打印"]
    assert "<script>alert(1)</script>" in texts and "培训目标" in texts
    assert not any(
        p._p.xpath(".//w:hyperlink") for p in document.paragraphs[:40] if "危险" in p.text
    )
    lis = texts.index("第2章 LIS")
    assert texts[lis + 1] == "检验科夜班只有一人值守，先打电话确认。"
    props = document.core_properties
    assert props.title == "检验与护理常见故障"
    assert props.author == SITE and props.last_modified_by == SITE
    assert props.created is not None and abs(props.created - utcnow()) < timedelta(minutes=5)


def test_markdown_and_html_keep_the_same_order(doc: HandbookDoc, site_settings: Settings) -> None:
    md = export.render(doc, ExportFormat.md, site_settings).decode("utf-8")
    heads = re.findall(r"^### \S+ (.+)$", md, flags=re.M)
    assert heads == [e.title for e in doc.entries]
    # Link, image and HTML syntax in the trainer's Markdown is escaped in the .md file: a
    # viewer rendering raw HTML and any link scheme still gets neither.
    assert "\\<script\\>" in md and "\\[危险链接\\](javascript:" in md
    assert "**新入职**" in md and "#### 培训目标" in md
    page = export.render(doc, ExportFormat.html, site_settings).decode("utf-8")
    assert "<strong>新入职</strong>" in page and "<h2>培训目标</h2>" in page
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert 'href="javascript' not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_loopback_public_url_warns() -> None:
    assert "KBSVC_PUBLIC_BASE_URL" in export.link_warning("http://127.0.0.1:8000")
    assert export.link_warning("http://localhost:8000")
    assert export.link_warning("http://[::1]:8000/")
    assert export.link_warning("https://kb.hospital.local") == ""
    assert export.link_warning("http://10.2.3.4:8000") == ""
