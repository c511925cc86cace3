"""`kbsvc notify run --once` and `kbsvc attachments ocr --once`: one pass in the foreground."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session

from kbsvc.config import Settings

ROOT = Path(__file__).resolve().parents[3]


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
    env = {
        **os.environ,
        "KBSVC_DATA_DIR": str(settings.data_dir),
        "KBSVC_DATABASE_URL": settings.database_url,
    }
    r = subprocess.run(
        [sys.executable, "-m", "kbsvc", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == said
