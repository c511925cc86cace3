"""DOCX export: real heading styles (Word's navigation pane), a TOC field, east-Asian fonts."""

from __future__ import annotations

import io
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from kbsvc.config import HandbookSettings
from kbsvc.handbooks.document import DocEntry, HandbookDoc
from kbsvc.handbooks.render import Progress
from kbsvc.handbooks.render.docx_markdown import add_markdown
from kbsvc.handbooks.render.markdown import FIELDS
from kbsvc.handbooks.render.qr import qr_png
from kbsvc.timeutil import utcnow

BRAND = RGBColor(0x17, 0x52, 0x7A)
MUTED = RGBColor(0x5B, 0x6B, 0x7B)
HEADINGS = ("Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3")


def set_fonts(target: Any, *, east_asia: str, latin: str) -> None:
    """Set rFonts on a style or run; theme font attributes would override them, so drop them."""
    rpr = target.element.get_or_add_rPr() if hasattr(target, "element") else target
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = OxmlElement("w:rFonts")
        rpr.insert(0, rfonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    rfonts.set(qn("w:ascii"), latin)
    rfonts.set(qn("w:hAnsi"), latin)
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:hint"), "eastAsia")


def _setup_styles(document: Any, cfg: HandbookSettings) -> None:
    styles = document.styles
    # Document defaults: whatever style Word falls back to still finds a Chinese font.
    defaults = styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, east_asia=cfg.docx_body_font, latin=cfg.docx_latin_font)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal = styles["Normal"]
    set_fonts(normal, east_asia=cfg.docx_body_font, latin=cfg.docx_latin_font)
    normal.font.size = Pt(10.5)
    normal.paragraph_format.line_spacing = 1.35
    normal.paragraph_format.space_after = Pt(3)
    sizes = {"Title": 26, "Subtitle": 14, "Heading 1": 20, "Heading 2": 15, "Heading 3": 12}
    for name in HEADINGS:
        style = styles[name]
        set_fonts(style, east_asia=cfg.docx_heading_font, latin=cfg.docx_latin_font)
        style.font.size = Pt(sizes[name])
        style.font.color.rgb = MUTED if name == "Subtitle" else BRAND
        style.font.bold = name != "Subtitle"
        style.font.italic = False
    # Chapters flow on (a break before each left the page before it half empty); a heading
    # always stays with what follows it.
    styles["Heading 1"].paragraph_format.page_break_before = False
    styles["Heading 1"].paragraph_format.space_before = Pt(24)
    styles["Heading 1"].paragraph_format.space_after = Pt(12)
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        styles[name].paragraph_format.keep_with_next = True


def _field(paragraph: Paragraph, instruction: str, placeholder: str = "") -> None:
    """A Word field (PAGE, TOC …); Word computes its result when fields are updated."""

    def fld(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    paragraph.add_run()._r.append(fld("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(fld("separate"))
    paragraph.add_run(placeholder)
    paragraph.add_run()._r.append(fld("end"))


def _hyperlink(paragraph: Paragraph, url: str, text: str) -> None:
    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = paragraph.add_run(text)
    run.font.color.rgb = BRAND
    run.font.underline = True
    link.append(run._r)
    paragraph._p.append(link)


def _text(paragraph: Paragraph, text: str) -> None:
    """Plain text with its line breaks; python-docx escapes it, nothing is interpreted."""
    for i, line in enumerate(text.split("\n")):
        if i:
            paragraph.add_run().add_break(WD_BREAK.LINE)
        paragraph.add_run(line)


def _cover(document: Any, doc: HandbookDoc) -> None:
    for _ in range(6):
        document.add_paragraph()
    document.add_paragraph(doc.title, style="Title")
    if doc.subtitle:
        document.add_paragraph(doc.subtitle, style="Subtitle")
    facts = [
        ("版次", doc.edition_label),
        ("生成日期", f"{doc.generated_at:%Y-%m-%d}"),
        ("收录条目", f"{doc.entry_count} 条，{len(doc.chapters)} 章"),
        ("编排方式", doc.grouping_label),
    ]
    for label, value in facts:
        p = document.add_paragraph()
        label_run = p.add_run(f"{label}　")
        label_run.font.color.rgb = MUTED
        p.add_run(value)


def _front(document: Any, doc: HandbookDoc, cfg: HandbookSettings) -> None:
    if doc.intro:
        intro = document.add_heading("前言", level=1)
        intro.paragraph_format.page_break_before = True
        add_markdown(document, doc.intro, _hyperlink)
    if doc.show_changes and doc.changes is not None:
        document.add_heading("本版变更", level=1)
        groups = (
            ("新增", doc.changes.added),
            ("更新", doc.changes.updated),
            ("移除", doc.changes.removed),
        )
        for label, items in groups:
            document.add_heading(f"{label}（{len(items)}）", level=2)
            for item in items:
                updated = label == "更新"
                suffix = f"（v{item.previous_version} → v{item.version}）" if updated else ""
                document.add_paragraph(f"{item.title}{suffix}", style="List Bullet")
            if not items:
                document.add_paragraph("无")
    # A plain paragraph, not Heading 1, so "目录" does not list itself.
    toc_title = document.add_paragraph()
    toc_title.paragraph_format.page_break_before = True
    run = toc_title.add_run("目录")
    run.bold, run.font.size, run.font.color.rgb = True, Pt(20), BRAND
    set_fonts(run._r.get_or_add_rPr(), east_asia=cfg.docx_heading_font, latin=cfg.docx_latin_font)
    _field(
        document.add_paragraph(),
        r'TOC \o "1-3" \h \z \u',
        "（打开文档时选择“更新域”，或右键此处 → 更新域，即可生成目录）",
    )


def _entry(document: Any, entry: DocEntry) -> None:
    document.add_heading(f"{entry.number} {entry.title}", level=3)
    where = " / ".join(p for p in (entry.system, entry.module) if p) or "通用"
    meta = document.add_paragraph()
    run = meta.add_run(
        f"适用系统：{where}　类别：{entry.category or '—'}　"
        f"引用次数：{entry.reuse}　版本：v{entry.version}"
    )
    run.font.size = Pt(9)
    run.font.color.rgb = MUTED
    for key, label in FIELDS:
        body = getattr(entry, key)
        if not body:
            continue
        head = document.add_paragraph()
        head.paragraph_format.space_after = Pt(0)
        label_run = head.add_run(label)
        label_run.bold = True
        label_run.font.color.rgb = BRAND
        _text(document.add_paragraph(), body)
    for n, img in enumerate(entry.images, start=1):
        # 14 cm fits A4 with margins; a small screenshot keeps its own size (96 dpi).
        width = Cm(min(14.0, img.width / 96 * 2.54)) if img.width else Cm(14.0)
        document.add_paragraph().add_run().add_picture(io.BytesIO(img.data), width=width)
        caption = document.add_paragraph()
        cap = caption.add_run(f"图 {entry.number}-{n}　{img.filename}")
        cap.font.size, cap.font.color.rgb = Pt(8), MUTED
    link = document.add_paragraph()
    link.add_run().add_picture(io.BytesIO(qr_png(entry.url)), width=Cm(1.8))
    link.add_run("　在线查看：").font.size = Pt(8)
    _hyperlink(link, entry.url, entry.url)


def _page_furniture(document: Any, doc: HandbookDoc) -> None:
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.2)
    section.different_first_page_header_footer = True
    header = section.header.paragraphs[0]
    header.add_run(doc.title).font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE", "1")
    # Ask Word/WPS to refresh fields (the TOC) when the file is opened.
    settings = document.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings.append(update)


def render(doc: HandbookDoc, *, cfg: HandbookSettings, progress: Progress | None = None) -> bytes:
    """The handbook as DOCX bytes."""
    document = Document()
    _setup_styles(document, cfg)
    _page_furniture(document, doc)
    _cover(document, doc)
    _front(document, doc, cfg)
    entries, done = len(doc.entries), 0
    for n, chapter in enumerate(doc.chapters):
        heading = document.add_heading(f"{chapter.label} {chapter.title}", level=1)
        heading.paragraph_format.page_break_before = n == 0  # the body starts after the TOC
        if chapter.note:
            add_markdown(document, chapter.note, _hyperlink)
        for section in chapter.sections:
            document.add_heading(f"{section.number} {section.title}", level=2)
            for entry in section.entries:
                _entry(document, entry)
                done += 1
                if progress:
                    progress(done, entries)
    _properties(document, doc)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _properties(document: Any, doc: HandbookDoc) -> None:
    """Core properties Word shows (File → Info): the book's, not python-docx's template's."""
    props = document.core_properties
    now = utcnow().replace(microsecond=0)
    props.title = doc.title
    props.subject = doc.subtitle
    props.author = props.last_modified_by = doc.author
    props.created = props.modified = now
    props.revision = doc.edition or 1
    props.keywords = "知识库; 培训手册"
    props.comments = f"{doc.edition_label}，{doc.entry_count} 条，{len(doc.chapters)} 章"
    props.category = "培训手册"
    props.language = "zh-CN"
