"""Run the real `kbsvc` CLI in a subprocess against a test's database, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kbsvc.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def run_kbsvc(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m kbsvc ARGS` on `settings`' data directory and database."""
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
