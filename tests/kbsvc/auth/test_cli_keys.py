"""`kbsvc apikey create | list | revoke` through the real CLI entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _kbsvc(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KBSVC_DATA_DIR": str(data_dir)}
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
def test_create_list_revoke(tmp_path: Path) -> None:
    made = _kbsvc(
        tmp_path,
        "apikey",
        "create",
        "--name",
        "his-widget",
        "--role",
        "widget",
        "--origin",
        "http://his.example.cn",
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("kb_") and len(key) > 40
    listed = _kbsvc(tmp_path, "apikey", "list")
    assert "his-widget" in listed.stdout and key[:10] in listed.stdout
    assert key not in listed.stdout  # the secret is shown once, at creation
    revoked = _kbsvc(tmp_path, "apikey", "revoke", "his-widget")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "his-widget" not in _kbsvc(tmp_path, "apikey", "list").stdout
    again = _kbsvc(tmp_path, "apikey", "revoke", "his-widget")
    assert again.returncode != 0 and "no active API key" in again.stderr
    bad = _kbsvc(tmp_path, "apikey", "create", "--name", "w", "--role", "widget")
    assert bad.returncode != 0 and "origin" in bad.stderr
    his = _kbsvc(tmp_path, "apikey", "create", "--name", "his", "--rate-per-minute", "12000")
    assert his.returncode == 0, his.stderr
    assert "12000/min" in _kbsvc(tmp_path, "apikey", "list").stdout
