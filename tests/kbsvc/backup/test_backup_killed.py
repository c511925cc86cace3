"""`kbsvc backup` killed with SIGKILL at random moments (KBSVC_KILLS times: 3 in `make test`,
20 in `make soak`) leaves nothing that restore would accept."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from kbsvc.backup import service
from kbsvc.config import Settings
from kbsvc.exceptions import ValidationFailed
from tests.cli import kbsvc_env, popen_kbsvc

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
KILLS = int(os.environ.get("KBSVC_KILLS", "3"))


def _ballast(engine: Engine) -> None:
    # ~40 MB of rows so the backup runs long enough to be killed in the middle.
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE ballast (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        chunk = "检验科LIS接口超时" * 200
        conn.execute(
            text("INSERT INTO ballast (id, body) VALUES (:id, :body)"),
            [{"id": i, "body": f"{i}{chunk}"} for i in range(12_000)],
        )


def _start(settings: Settings, dest: Path) -> subprocess.Popen[bytes]:
    env = kbsvc_env(settings.data_dir, KBSVC_DATABASE_URL=settings.database_url)
    return popen_kbsvc(
        env, "backup", str(dest), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_killed_backup_leaves_nothing_restorable(
    settings: Settings, seeded: Engine, empty_site: Settings, tmp_path: Path
) -> None:
    _ballast(seeded)
    killed_midway = 0
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "41")))
    for i in range(KILLS):
        delay = 0.0 if i == 0 else rnd.uniform(0, 0.15)
        dest = tmp_path / f"nightly-{i}"
        proc = _start(settings, dest)
        partial = tmp_path / f".{dest.name}.partial-{proc.pid}"
        deadline = time.monotonic() + 60
        while not partial.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)  # a no-op if it already finished (and was reaped)
        proc.wait()
        if dest.exists():
            service.verify(dest)  # finished before the kill: then it must be whole
            continue
        killed_midway += 1
        assert partial.exists()
        with pytest.raises(ValidationFailed):
            service.restore(empty_site, partial)
        with pytest.raises(ValidationFailed):
            service.restore(empty_site, dest)
    print(f"\nbackup: {killed_midway} of {KILLS} runs killed midway, none restorable")
    assert killed_midway >= 1
    assert not empty_site.data_dir.exists() or not any(empty_site.data_dir.iterdir())

    # The next backup tidies the dead partial folders and completes.
    service.backup(settings, seeded, tmp_path / "nightly-0")
    assert not list(tmp_path.glob(".nightly-0.partial-*"))
    service.restore(empty_site, tmp_path / "nightly-0")
