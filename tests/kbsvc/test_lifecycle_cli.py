"""`kbsvc entry …`, `kbsvc vocab …`, `kbsvc review due` against a real database file."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service
from kbsvc.entries.models import EntryStatus
from tests.cli import run_kbsvc
from tests.factories import make_entry


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_entry_vocab_review_commands(settings: Settings, session: Session) -> None:
    entry = make_entry(session, status=EntryStatus.draft)
    out = run_kbsvc(settings, "entry", "submit", str(entry.id))
    assert out.returncode == 0, out.stderr
    assert f"entry {entry.id}: in_review (version 2)" in out.stdout
    assert run_kbsvc(settings, "entry", "publish", str(entry.id)).returncode == 0
    out = run_kbsvc(settings, "entry", "publish", str(entry.id))
    assert out.returncode == 2 and "cannot publish" in out.stderr and "Traceback" not in out.stderr
    assert run_kbsvc(settings, "entry", "archive", str(entry.id)).returncode == 0
    session.expire_all()
    assert (
        service.get(session, entry_id=entry.id or 0, principal=SYSTEM).status
        == EntryStatus.archived
    )

    out = run_kbsvc(settings, "vocab", "list", "--kind", "system")
    assert out.returncode == 0 and "system\tHIS\t" in out.stdout
    assert "added 0 vocabulary terms" in run_kbsvc(settings, "vocab", "seed").stdout
    assert run_kbsvc(settings, "vocab", "list", "--kind", "nope").returncode == 2

    published = make_entry(session)  # no review date: not due
    out = run_kbsvc(settings, "review", "due", "--days", "1")
    assert out.returncode == 0 and "0 entries due" in out.stderr and published.id
