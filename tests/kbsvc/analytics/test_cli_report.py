"""`kbsvc report …` end to end in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kbsvc import db
from kbsvc.analytics import demo
from kbsvc.config import Settings

ROOT = Path(__file__).resolve().parents[3]


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KBSVC_DATA_DIR": str(data_dir), "KBSVC_DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "kbsvc", "report", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_report_formats(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="", _env_file=None)  # type: ignore[call-arg]
    eng = db.make_engine(settings)
    db.upgrade(eng)
    demo.seed(eng)
    eng.dispose()
    out = _run(tmp_path, "demand", "--from", "2025-01-01", "--to", "2025-03-31", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    assert [m["month"] for m in data["by_month"]] == ["2025-01", "2025-02", "2025-03"]
    table = _run(tmp_path, "health")
    assert table.returncode == 0 and "知识状态" in table.stdout and "已发布" in table.stdout
    csv_out = _run(tmp_path, "reuse", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "月份,已解决工单,关联知识,关联率(%),新建知识,复用知识"
    bad = _run(tmp_path, "gaps", "--from", "yesterday")
    assert bad.returncode == 2 and "开始日期（from）不是有效日期" in bad.stderr
    purge = _run(tmp_path, "purge-log", "--days", "30")
    assert purge.returncode == 0 and "removed" in purge.stdout
