"""A second, empty site (its own data dir and database) to import into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kbsvc import db
from kbsvc.config import Settings
from tests.conftest import PG_URL, _pg_admin, _pg_url


@pytest.fixture
def sister(tmp_path: Path) -> Iterator[tuple[Settings, Engine]]:
    """(settings, engine) of the receiving hospital, migrated and empty."""
    cfg = Settings(data_dir=tmp_path / "sister", database_url="", _env_file=None)  # type: ignore[call-arg]
    cfg.exchange.site_name = "市第二人民医院"
    name = ""
    if PG_URL:
        name = f"kbsvc_sister_{uuid.uuid4().hex[:12]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        cfg.database_url = _pg_url(name)
    eng = db.make_engine(cfg)
    db.upgrade(eng)
    yield cfg, eng
    eng.dispose()
    if name:
        with _pg_admin().connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
