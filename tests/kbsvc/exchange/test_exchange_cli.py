"""`kbsvc kb export` on one site and `kbsvc kb import` on another, twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.config import Settings
from kbsvc.entries.models import Entry
from tests.cli import run_kbsvc
from tests.factories import make_entry

pytestmark = pytest.mark.postgres


def _kbsvc(cfg: Settings, *args: str) -> str:
    done = run_kbsvc(cfg, *args, KBSVC_EXCHANGE__SITE_NAME=cfg.exchange.site_name)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_round_trip(
    settings: Settings, session: Session, sister: tuple[Settings, Engine], tmp_path: Path
) -> None:
    settings.exchange.site_name = "市第一人民医院"
    make_entry(session, title="门诊叫号屏不刷新", system="叫号", tags=["叫号屏"])
    make_entry(session, title="HIS打印发票错位", system="HIS")
    out = _kbsvc(settings, "kb", "export", str(tmp_path / "kb.zip"), "--system", "叫号")
    assert "exported 1 entries" in out
    cfg, eng = sister
    first = _kbsvc(cfg, "kb", "import", str(tmp_path / "kb.zip"))
    assert "from 市第一人民医院: 1 new drafts" in first
    second = _kbsvc(cfg, "kb", "import", str(tmp_path / "kb.zip"))
    assert "0 new drafts" in second and "1 unchanged" in second
    with Session(eng) as other:
        rows = other.exec(select(Entry)).all()
    assert [(e.title, e.status) for e in rows] == [("门诊叫号屏不刷新", "draft")]
