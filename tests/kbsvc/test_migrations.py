"""Migrations build exactly the schema the models describe, and walk down and up again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from kbsvc import db
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]


def _schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, db.metadata().metadata))


def _round_trip(engine: Engine) -> None:
    cfg = db.alembic_config(engine)
    head = db.current_revision(engine)
    command.downgrade(cfg, "base")
    assert db.current_revision(engine) is None
    # Only Alembic's own bookkeeping table survives a full downgrade.
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    db.upgrade(engine)
    assert db.current_revision(engine) == head
    assert _schema_diff(engine) == []


def test_upgrade_head_matches_models(engine: Engine) -> None:
    diff = _schema_diff(engine)
    assert diff == [], f"models and migrations differ: {diff}"
    assert db.current_revision(engine) is not None


def test_import_all_models_knows_every_migrated_table(engine: Engine) -> None:
    """A table module missing from import_all_models hides its tables from the comparison."""
    # A fresh interpreter: in this one, other tests may already have imported the module.
    code = (
        "from sqlmodel import SQLModel; from kbsvc import db; db.import_all_models(); "
        "print(' '.join(sorted(SQLModel.metadata.tables)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    known = set(out.stdout.split())
    migrated = set(inspect(engine).get_table_names()) - {"alembic_version"}
    missing = sorted(migrated - known)
    assert missing == [], f"add the modules of {missing} to kbsvc.db.import_all_models"


def test_file_order_is_chain_order(engine: Engine) -> None:
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    chain = list(reversed(list(script.walk_revisions("base", "heads"))))
    assert len(script.get_heads()) == 1, "migrations must form one chain"
    files = [Path(rev.path).name for rev in chain]
    assert files == sorted(files), f"rename files to follow the chain: {files}"


def test_downgrade_to_base_then_upgrade(engine: Engine) -> None:
    """Runs on SQLite, and on PostgreSQL in scripts/run-tests.sh's database pass."""
    _round_trip(engine)


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="needs KBSVC_TEST_DATABASE_URL (scripts/run-tests.sh)")
def test_downgrade_to_base_then_upgrade_on_postgresql(engine: Engine) -> None:
    assert engine.dialect.name == "postgresql"
    _round_trip(engine)
