"""`kbsvc apikey create | list | revoke` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli import run_kbsvc_sqlite


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_create_list_revoke(tmp_path: Path) -> None:
    made = run_kbsvc_sqlite(
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
    listed = run_kbsvc_sqlite(tmp_path, "apikey", "list")
    assert "his-widget" in listed.stdout and key[:10] in listed.stdout
    assert key not in listed.stdout  # the secret is shown once, at creation
    revoked = run_kbsvc_sqlite(tmp_path, "apikey", "revoke", "his-widget")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert "his-widget" not in run_kbsvc_sqlite(tmp_path, "apikey", "list").stdout
    again = run_kbsvc_sqlite(tmp_path, "apikey", "revoke", "his-widget")
    assert again.returncode != 0 and "no active API key" in again.stderr
    bad = run_kbsvc_sqlite(tmp_path, "apikey", "create", "--name", "w", "--role", "widget")
    assert bad.returncode != 0 and "origin" in bad.stderr
    his = run_kbsvc_sqlite(
        tmp_path, "apikey", "create", "--name", "his", "--rate-per-minute", "12000"
    )
    assert his.returncode == 0, his.stderr
    assert "12000/min" in run_kbsvc_sqlite(tmp_path, "apikey", "list").stdout
