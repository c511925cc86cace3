"""`kbsvc kb export` on one site and `kbsvc kb import` on another, twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.config import Settings
from kbsvc.entries.models import Entry
from tests.factories import make_entry

pytestmark = pytest.mark.postgres


def _kbsvc(cfg: Settings, *args: str) -> str:
    env = dict(os.environ, KBSVC_DATA_DIR=str(cfg.data_dir), KBSVC_DATABASE_URL=cfg.database_url)
    env["KBSVC_EXCHANGE__SITE_NAME"] = cfg.exchange.site_name
    done = subprocess.run(
        [sys.executable, "-m", "kbsvc", *args], env=env, capture_output=True, text=True, timeout=120
    )
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
