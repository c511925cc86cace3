"""Shared fixtures: a fresh migrated database per test, an app client, keys per role."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated to this test's data directory."""
    return Settings(data_dir=tmp_path / "data", database_url="", _env_file=None)  # type: ignore[call-arg]


# Set by scripts/run-tests.sh (scripts/pg-test-server.sh): run database tests on PostgreSQL.
PG_URL = os.environ.get("KBSVC_TEST_DATABASE_URL", "")


def _pg_url(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


def _pg_admin() -> Engine:
    return create_engine(_pg_url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A PostgreSQL database migrated once per session; each test copies it (fast)."""
    if not PG_URL:
        yield None
        return
    name = f"kbsvc_tpl_{os.getpid()}"  # one per xdist worker
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = create_engine(_pg_url(name), poolclass=NullPool)
    db.upgrade(eng)
    eng.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def engine(settings: Settings, pg_template: str | None) -> Iterator[Engine]:
    """A fresh database migrated to head: SQLite in the data dir, or a PostgreSQL copy."""
    if pg_template is None:
        eng = db.make_engine(settings)
        db.upgrade(eng)
        yield eng
        eng.dispose()
        return
    name = f"kbsvc_t_{uuid.uuid4().hex[:16]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    settings.database_url = _pg_url(name)  # apps and subprocesses built from settings agree
    eng = db.make_engine(settings)
    db.upgrade(eng)
    yield eng
    eng.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(settings, db_engine=engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def _key(session: Session, role: Role) -> dict[str, str]:
    origins = ["http://127.0.0.1:8000"] if role is Role.widget else None
    _row, plaintext = auth_service.create_api_key(
        session, name=f"test-{role.value}", role=role, origins=origins
    )
    session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def admin_headers(session: Session) -> dict[str, str]:
    return _key(session, Role.admin)


@pytest.fixture
def editor_headers(session: Session) -> dict[str, str]:
    return _key(session, Role.editor)


@pytest.fixture
def reviewer_headers(session: Session) -> dict[str, str]:
    return _key(session, Role.reviewer)


@pytest.fixture
def viewer_headers(session: Session) -> dict[str, str]:
    return _key(session, Role.viewer)


@pytest.fixture
def widget_headers(session: Session) -> dict[str, str]:
    """A widget key bound to http://127.0.0.1:8000."""
    return _key(session, Role.widget)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (openssl)."""
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
