"""PDF export: Chinese headings, TOC with page numbers, entry order, inert text, no fetching."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.handbooks import assemble
from kbsvc.handbooks.models import HandbookCreate, Selection
from kbsvc.handbooks.render import pdf
from tests.kbsvc.handbooks.conftest import KB

TITLE = "医院HIS系统常见故障分析与处理方法"


@pytest.fixture(scope="module")
def pdf_bytes(kb: KB) -> bytes:
    with Session(kb.engine) as session:
        data = HandbookCreate(title=TITLE, subtitle="信息中心", selection=Selection())
        doc = assemble.build_adhoc(
            session, data=data, settings=kb.settings, search=kb.search, principal=SYSTEM
        )
    return pdf.render(doc, preferred_fonts=kb.settings.handbooks.pdf_fonts)


@pytest.fixture(scope="module")
def pages(pdf_bytes: bytes) -> list[str]:
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf_bytes)).pages]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_cover_toc_and_chinese_headings(pages: list[str]) -> None:
    assert TITLE in squash(pages[0]) and "信息中心" in pages[0]
    toc = pages[1]
    assert squash(toc).startswith("目录")
    # TOC lines carry the page their target starts on (CSS target-counter).
    match = re.search(r"第1章\s*HIS\s*(\d+)", toc)
    assert match, toc
    chapter_page = int(match[1])
    assert "第1章" in squash(pages[chapter_page - 1]) and "门诊医生站" in pages[chapter_page - 1]
    assert re.search(r"1\.1\s*门诊医生站\s*\d+", toc)
    assert re.search(r"第2章\s*LIS\s*\d+", toc)
    body = squash("".join(pages[chapter_page - 1 :]))
    for label in ("故障现象", "原因分析", "处理方法", "应急处理", "适用系统", "引用次数"):
        assert label in body


def test_entries_in_reuse_order(pages: list[str]) -> None:
    body = squash("".join(pages[2:]))
    order = ["门诊医生站CA证书过期无法登录", "门诊医生站早高峰保存处方卡顿", "处方药品单价显示为零"]
    positions = [body.index(t) for t in order]
    assert positions == sorted(positions)
    assert body.index("检验结果未回传HIS") < body.index("检验科审核账号被锁定")


def test_pdf_embeds_a_cjk_font(pdf_bytes: bytes, tmp_path: Path) -> None:
    if shutil.which("pdffonts") is None:
        pytest.skip("poppler-utils not installed")
    path = tmp_path / "h.pdf"
    path.write_bytes(pdf_bytes)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "CJK" in fonts


def test_entry_text_is_shown_not_executed(pdf_bytes: bytes, pages: list[str]) -> None:
    text = "".join(pages)
    assert "alert(1)" in text  # shown as text
    assert b"/JavaScript" not in pdf_bytes and b"/JS" not in pdf_bytes
    annots = [
        a.get_object()
        for page in PdfReader(io.BytesIO(pdf_bytes)).pages
        for a in page.get("/Annots") or []
    ]
    uris = [str(a["/A"]["/URI"]) for a in annots if "/A" in a and "/URI" in a["/A"]]
    assert uris and all(u.startswith("http://127.0.0.1:8000/entries/") for u in uris)
    assert any("/Dest" in a for a in annots)  # the TOC links inside the document


def test_fetcher_refuses_everything_but_data_and_assets(tmp_path: Path) -> None:
    fetcher = pdf.safe_fetcher()
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    for url in (
        "http://example.com/x.png",
        "https://example.com/x.css",
        outside.as_uri(),
        "file:///etc/passwd",
        (pdf.ASSETS_DIR / ".." / "models.py").as_uri(),
        "ftp://example.com/a",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"
    css = fetcher.fetch((pdf.ASSETS_DIR / "handbook.css").as_uri()).read()
    assert b"@page" in css


def test_remote_resources_in_markup_are_not_fetched(kb: KB) -> None:
    from weasyprint import HTML

    fetcher = pdf.safe_fetcher()
    HTML(
        string='<img src="http://127.0.0.1:9/x.png"><link rel=stylesheet href="/etc/x.css">',
        base_url=pdf.ASSETS_DIR.as_uri() + "/",
        url_fetcher=fetcher,
    ).write_pdf()
    assert sorted(fetcher.refused) == ["file:///etc/x.css", "http://127.0.0.1:9/x.png"]


def test_missing_cjk_font_is_a_clear_error(
    kb: KB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><fontconfig></fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    with pytest.raises(pdf.FontMissing) as err:
        pdf.cjk_fonts(["Noto Sans CJK SC"])
    assert "fonts-noto-cjk" in err.value.message and "中文字体" in err.value.message
