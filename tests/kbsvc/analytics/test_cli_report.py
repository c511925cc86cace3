"""`kbsvc report …` end to end in a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kbsvc import db
from kbsvc.analytics import demo
from kbsvc.config import Settings
from tests.cli import run_kbsvc_sqlite


# Several `kbsvc` subprocesses, each paying the import cost: not in `make test-fast`.
@pytest.mark.slow
def test_report_formats(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="", _env_file=None)  # type: ignore[call-arg]
    eng = db.make_engine(settings)
    db.upgrade(eng)
    demo.seed(eng)
    eng.dispose()
    out = run_kbsvc_sqlite(
        tmp_path,
        "report",
        "demand",
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "--format",
        "json",
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["period"] == {"from": "2025-01-01", "to": "2025-03-31"}
    assert [m["month"] for m in data["by_month"]] == ["2025-01", "2025-02", "2025-03"]
    table = run_kbsvc_sqlite(tmp_path, "report", "health")
    assert table.returncode == 0 and "知识状态" in table.stdout and "已发布" in table.stdout
    csv_out = run_kbsvc_sqlite(tmp_path, "report", "reuse", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "月份,已解决工单,关联知识,关联率(%),新建知识,复用知识"
    bad = run_kbsvc_sqlite(tmp_path, "report", "gaps", "--from", "yesterday")
    assert bad.returncode == 2 and "开始日期（from）不是有效日期" in bad.stderr
    purge = run_kbsvc_sqlite(tmp_path, "report", "purge-log", "--days", "30")
    assert purge.returncode == 0 and "removed" in purge.stdout
