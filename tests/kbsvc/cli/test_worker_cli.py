"""`kbsvc notify run --once` and `kbsvc attachments ocr --once`: one pass in the foreground."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kbsvc.config import Settings
from tests.cli import run_kbsvc


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["notify", "run", "--once"], "handled 0 deliveries"),
        (["attachments", "ocr", "--once"], "recognised 0 attachments"),
    ],
)
def test_a_worker_pass_once_reports_what_it_handled(
    session: Session, settings: Settings, command: list[str], said: str
) -> None:
    session.commit()  # the schema exists before the subprocess opens the database
    r = run_kbsvc(settings, *command)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == said
