"""Shared fixtures: a fresh migrated database per test, an app client, keys per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
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


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """A fresh database migrated to head."""
    eng = db.make_engine(settings)
    db.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    from api.app import create_app

    return create_app(settings, engine=engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def _key(session: Session, role: Role) -> dict[str, str]:
    origins = ["http://127.0.0.1:8000"] if role is Role.widget else None
    _row, plaintext = auth_service.create_api_key(
        session, name=f"test-{role.value}", role=role, origins=origins
    )
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
