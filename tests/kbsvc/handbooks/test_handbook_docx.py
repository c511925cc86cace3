"""DOCX export: heading styles for the navigation pane, TOC field, east-Asian fonts, inert text."""

from __future__ import annotations

import io
import zipfile

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.handbooks import assemble
from kbsvc.handbooks.models import HandbookCreate, Selection
from kbsvc.handbooks.render import docx
from tests.kbsvc.handbooks.conftest import KB, XSS_SYMPTOM, XSS_TITLE


@pytest.fixture(scope="module")
def docx_bytes(kb: KB) -> bytes:
    with Session(kb.engine) as session:
        data = HandbookCreate(
            title="医院信息系统常见故障分析与处理方法",
            subtitle="培训版",
            intro="供新员工培训。",
            selection=Selection(),
        )
        doc = assemble.build_adhoc(
            session, data=data, settings=kb.settings, search=kb.search, principal=SYSTEM
        )
    return docx.render(doc, cfg=kb.settings.handbooks)


@pytest.fixture(scope="module")
def document(docx_bytes: bytes):  # type: ignore[no-untyped-def]
    return Document(io.BytesIO(docx_bytes))


def headings(document, level: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def test_real_heading_styles_for_the_navigation_pane(document) -> None:  # type: ignore[no-untyped-def]
    assert headings(document, 1) == ["前言", "第1章 HIS", "第2章 LIS"]
    assert headings(document, 2)[:2] == ["1.1 门诊医生站", "1.2 护士站"]
    assert headings(document, 3)[0] == "1.1.1 门诊医生站CA证书过期无法登录"
    assert (
        document.paragraphs[[p.style.name for p in document.paragraphs].index("Title")].text
        == "医院信息系统常见故障分析与处理方法"
    )
    # Headings keep their outline level, which is what Word's navigation pane reads.
    # Chapters flow on; a heading never ends a page.
    assert document.styles["Heading 1"].paragraph_format.page_break_before is False
    assert document.styles["Heading 1"].paragraph_format.keep_with_next is True
    body = "\n".join(p.text for p in document.paragraphs)
    for label in ("故障现象", "原因分析", "处理方法", "应急处理", "适用系统：HIS", "引用次数：6"):
        assert label in body


def test_east_asian_font_on_styles_and_defaults(document, kb: KB) -> None:  # type: ignore[no-untyped-def]
    cfg = kb.settings.handbooks
    for name, font in (
        ("Normal", cfg.docx_body_font),
        ("Heading 1", cfg.docx_heading_font),
        ("Heading 3", cfg.docx_heading_font),
        ("Title", cfg.docx_heading_font),
    ):
        rfonts = document.styles[name].element.rPr.find(qn("w:rFonts"))
        assert rfonts.get(qn("w:eastAsia")) == font, name
        assert rfonts.get(qn("w:asciiTheme")) is None  # a theme font would override ours
    defaults = document.styles.element.find(qn("w:docDefaults"))
    rfonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert rfonts.get(qn("w:eastAsia")) == cfg.docx_body_font
    toc_title = next(p for p in document.paragraphs if p.text == "目录")
    run_fonts = toc_title.runs[0]._r.rPr.find(qn("w:rFonts"))
    assert run_fonts.get(qn("w:eastAsia")) == cfg.docx_heading_font


def test_toc_and_page_fields(docx_bytes: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        body = z.read("word/document.xml").decode()
        footers = "".join(z.read(n).decode() for n in z.namelist() if "footer" in n)
        settings = z.read("word/settings.xml").decode()
    assert 'TOC \\o "1-3" \\h \\z \\u' in body
    assert " PAGE " in footers
    assert "updateFields" in settings


def test_each_entry_carries_a_qr_code(document) -> None:  # type: ignore[no-untyped-def]
    assert len(document.inline_shapes) == 13  # one per published entry (12 + the XSS one)


def test_dangerous_entry_text_is_literal_text(docx_bytes: bytes, document) -> None:  # type: ignore[no-untyped-def]
    body = "\n".join(p.text for p in document.paragraphs)
    assert XSS_TITLE in body and XSS_SYMPTOM in body
    with zipfile.ZipFile(io.BytesIO(docx_bytes)) as z:
        xml = z.read("word/document.xml").decode()
        rels = z.read("word/_rels/document.xml.rels").decode()
        names = z.namelist()
    assert "<script>" not in xml and "&lt;script&gt;" in xml
    assert "javascript:" not in rels and 'TargetMode="External"' in rels
    assert all(not n.endswith((".bin", "vbaProject.bin")) for n in names)
