"""`kbsvc demo`: the shipped tickets load, one entry per fault family, and a rerun adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session
from typer.testing import CliRunner

from kbsvc import db
from kbsvc.auth import service as auth
from kbsvc.auth.models import Role, User
from kbsvc.cli import app
from kbsvc.config import Settings
from kbsvc.demo import data_files
from kbsvc.entries.models import Entry, EntryChange, EntryLink, EntryStatus, LinkKind
from kbsvc.tickets.models import Ticket


def test_demo_data_ships_and_is_realistic() -> None:
    lines = [ln for f in data_files() for ln in f.read_text(encoding="utf-8").splitlines() if ln]
    assert len(lines) >= 300


@pytest.mark.slow
def test_demo_loads_and_is_idempotent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KBSVC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KBSVC_DATABASE_URL", "")
    first = CliRunner().invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    out = first.stdout
    assert "admin / kbsvc-demo" in out and "http://127.0.0.1:8000/demo/ticket" in out
    key = next(
        ln.split(": ")[1].split()[0] for ln in out.splitlines() if ln.startswith("admin API key")
    )

    engine = db.make_engine(Settings(data_dir=tmp_path / "data", _env_file=None))  # type: ignore[call-arg]
    with Session(engine) as session:

        def n(model: type, *where: object) -> int:
            stmt = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(session.execute(stmt).scalar_one())

        snapshot = (n(Ticket), n(Entry), n(EntryLink), n(EntryChange), n(User))
        assert snapshot[0] >= 300 and snapshot[4] == 1
        assert n(Entry, Entry.status == EntryStatus.published) > 80
        assert n(Entry, Entry.status == EntryStatus.draft) >= 3
        assert n(Entry, Entry.status == EntryStatus.in_review) >= 3
        # Recurring faults: the family's later tickets cite the captured entry.
        assert n(EntryLink, EntryLink.kind == LinkKind.cited) > 100
        assert n(EntryLink, EntryLink.kind == LinkKind.source) == snapshot[1]
        principal = auth.principal_for_key(session, key)
        assert principal is not None and principal.role is Role.admin

        again = CliRunner().invoke(app, ["demo"])
        assert again.exit_code == 0, again.output
        assert "(0 new)" in again.stdout and f"admin API key: {key}" in again.stdout
        assert (n(Ticket), n(Entry), n(EntryLink), n(EntryChange), n(User)) == snapshot

        reset = CliRunner().invoke(app, ["demo", "--reset"])
        assert reset.exit_code == 0, reset.output
        assert (n(Ticket), n(Entry), n(EntryLink)) == snapshot[:3]
    engine.dispose()
