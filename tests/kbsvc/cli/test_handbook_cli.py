"""`kbsvc handbook …` end to end in a subprocess."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from docx import Document
from sqlmodel import Session

from kbsvc.config import Settings
from tests.cli import run_kbsvc
from tests.kbsvc.handbooks.conftest import build_kb


def kbsvc(settings: Settings, *args: str, public_url: str = "") -> subprocess.CompletedProcess[str]:
    """`kbsvc handbook ARGS`, 80 columns wide, with KBSVC_PUBLIC_BASE_URL only when given."""
    url = public_url or None
    return run_kbsvc(settings, "handbook", *args, COLUMNS="80", KBSVC_PUBLIC_BASE_URL=url)


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_adhoc_export_and_saved_lifecycle(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    build_kb(session)
    out = tmp_path / "his.docx"
    r = kbsvc(
        settings,
        "export",
        "--title",
        "医院HIS系统常见故障分析与处理方法",
        "--system",
        "HIS",
        "--format",
        "docx",
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert "8 entries" in r.stdout
    # The default public URL is this machine's: printed links would lead nowhere.
    assert "KBSVC_PUBLIC_BASE_URL" in r.stderr and "127.0.0.1" in r.stderr
    heads = [p.text for p in Document(str(out)).paragraphs if p.style.name == "Heading 1"]
    assert heads[0] == "第1章 门诊医生站"

    r = kbsvc(
        settings, "create", "--title", "检验手册", "--system", "LIS", "--group-by", "cause_category"
    )
    assert r.returncode == 0 and "created handbook 1" in r.stdout
    r = kbsvc(settings, "edition", "--id", "1")
    assert r.returncode == 0 and "edition 1: 4 entries" in r.stdout
    assert "检验手册" in kbsvc(settings, "list").stdout
    md = tmp_path / "lis.md"
    r = kbsvc(
        settings,
        *("export", "--id", "1", "--edition", "1", "--format", "md", "-o", str(md)),
        public_url="http://kb.hospital.local",
    )
    assert r.returncode == 0, r.stderr
    assert "KBSVC_PUBLIC_BASE_URL" not in r.stderr
    text = md.read_text(encoding="utf-8")
    assert "http://kb.hospital.local/entries/" in text
    # By cause category; equal-sized chapters follow their most reused entry.
    assert "# 第1章 打印" in text and "# 第2章 接口对接" in text and "## 1.1 LIS" in text


def test_errors_are_one_line(session: Session, settings: Settings, tmp_path: Path) -> None:
    build_kb(session)
    r = kbsvc(
        settings,
        "export",
        "--title",
        "空",
        "--system",
        "无此系统",
        "--format",
        "pdf",
        "-o",
        str(tmp_path / "x.pdf"),
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    # The search engine may log that it built its index first; the error itself is one line.
    lines = [ln for ln in r.stderr.strip().splitlines() if "search index" not in ln]
    assert len(lines) == 1 and "没有符合条件" in lines[0]
    assert not (tmp_path / "x.pdf").exists()

    conf = tmp_path / "fonts.conf"
    conf.write_text('<?xml version="1.0"?><fontconfig></fontconfig>')
    r = run_kbsvc(
        settings,
        "handbook",
        "export",
        "--title",
        "HIS",
        "--system",
        "HIS",
        "--format",
        "pdf",
        "-o",
        str(tmp_path / "y.pdf"),
        FONTCONFIG_FILE=str(conf),
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "fonts-noto-cjk" in lines[0] and "中文字体" in lines[0]

    r = kbsvc(settings, "export", "--format", "pdf", "-o", str(tmp_path / "z.pdf"))
    assert r.returncode == 2 and "--title" in r.stderr
