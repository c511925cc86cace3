"""A small KB with every kind of row a restore must bring back, and an empty second site."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.attachments import service as attachments
from kbsvc.attachments import sniff
from kbsvc.auth import audit
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import SYSTEM, Role
from kbsvc.config import AttachmentSettings, Settings
from kbsvc.entries import citations
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryUpdate
from tests import attachments_data
from tests.conftest import PG_URL, _pg_admin, _pg_url
from tests.factories import make_entry, make_ticket


def seed(session: Session) -> None:
    """Tickets, entries with two versions, a citation, a user, audit events, a screenshot."""
    for n in range(3):
        make_ticket(session, external_id=f"BK-{n}", title=f"备份测试工单{n}")
    first = make_entry(session)
    make_entry(session, title="LIS条码打印机卡纸", system="LIS")
    edit = EntryUpdate(solution="更新证书；重启客户端")
    entries.update(session, entry_id=first.id or 0, data=edit, actor="t", principal=SYSTEM)
    citations.cite(
        session,
        entry_id=first.id or 0,
        source="test",
        external_id="BK-1",
        actor="t",
        principal=SYSTEM,
    )
    auth_service.create_user(
        session,
        username="zhangsan",
        role=Role.editor,
        password="s3cret-pass!",
        departments=["信息"],
    )
    audit.record(session, actor="cli:root", action="CLI user add", object_ids=["1"])
    cfg = AttachmentSettings()
    shot = sniff.clean_upload(attachments_data.png(), "备份截图.png", cfg)
    attachments.add(session, entry_id=first.id or 0, upload=shot, principal=SYSTEM, settings=cfg)
    session.commit()


def dump_tables(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ordered, for exact comparison between two databases."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'SELECT * FROM "{name}"')).all()
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    with Session(engine, expire_on_commit=False) as session:
        seed(session)
    return engine


@pytest.fixture
def empty_site(tmp_path: Path) -> Iterator[Settings]:
    """Settings for a second site: an empty data dir and, on PostgreSQL, an empty database."""
    target = Settings(data_dir=tmp_path / "restored", database_url="", _env_file=None)  # type: ignore[call-arg]
    if not PG_URL:
        yield target
        return
    name = f"kbsvc_restore_{uuid.uuid4().hex[:12]}"
    with _pg_admin().connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target.database_url = _pg_url(name)
    yield target
    with _pg_admin().connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
