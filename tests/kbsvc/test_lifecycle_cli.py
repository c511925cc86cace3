"""`kbsvc entry …`, `kbsvc vocab …`, `kbsvc review due` against a real database file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service
from kbsvc.entries.models import EntryStatus
from tests.factories import make_entry

ROOT = Path(__file__).resolve().parents[2]


def _kbsvc(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KBSVC_DATA_DIR": str(settings.data_dir),
        "KBSVC_DATABASE_URL": settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "kbsvc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_entry_vocab_review_commands(settings: Settings, session: Session) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    out = _kbsvc(settings, "entry", "submit", str(entry.id))
    assert out.returncode == 0, out.stderr
    assert f"entry {entry.id}: in_review (version 2)" in out.stdout
    assert _kbsvc(settings, "entry", "publish", str(entry.id)).returncode == 0
    out = _kbsvc(settings, "entry", "publish", str(entry.id))
    assert out.returncode == 2 and "cannot publish" in out.stderr and "Traceback" not in out.stderr
    assert _kbsvc(settings, "entry", "archive", str(entry.id)).returncode == 0
    session.expire_all()
    assert (
        service.get(session, entry_id=entry.id or 0, principal=SYSTEM).status
        == EntryStatus.archived
    )

    out = _kbsvc(settings, "vocab", "list", "--kind", "system")
    assert out.returncode == 0 and "system\tHIS\t" in out.stdout
    assert "added 0 vocabulary terms" in _kbsvc(settings, "vocab", "seed").stdout
    assert _kbsvc(settings, "vocab", "list", "--kind", "nope").returncode == 2

    published = make_entry(session)  # no review date: not due
    out = _kbsvc(settings, "review", "due", "--days", "1")
    assert out.returncode == 0 and "0 entries due" in out.stderr and published.id
