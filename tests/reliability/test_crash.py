"""Crash safety: SIGKILL a running import and a running reindex at random points (10 times
each), then the database must be intact, hold whole batches only, and a re-run must finish
the job with nothing lost and nothing duplicated; a restarted index must catch up."""

from __future__ import annotations

import csv
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kbsvc.intake.service import BATCH_SIZE

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10
ROWS = 3000  # 15 batches
HEADER = ["工单号", "标题", "问题描述", "处理方法", "系统", "科室"]

pytestmark = pytest.mark.slow


def write_csv(path: Path, rows: int, prefix: str = "C") -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            out.writerow([f"{prefix}{i:05d}", f"{i}号工单：护士站打印机无法打印",
                          f"病区护士站{i}号打印机打印时提示脱机，\n重启无效",
                          "重新安装驱动并设置默认打印机", "打印机", "内科"])


def kbsvc(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "KBSVC_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    env.pop("KBSVC_DATABASE_URL", None)
    return subprocess.Popen([sys.executable, "-m", "kbsvc", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def timed_run(data_dir: Path, *args: str) -> tuple[float, str]:
    """Run to completion; (seconds, stdout)."""
    t0 = time.monotonic()
    proc = kbsvc(data_dir, *args)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return time.monotonic() - t0, out


def kill_at_random(data_dir: Path, duration: float, rnd: random.Random, *args: str) -> bool:
    """Start the command and SIGKILL it at a random moment; True when it was still running."""
    proc = kbsvc(data_dir, *args)
    time.sleep(rnd.uniform(0.25, 0.97) * duration)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode == -signal.SIGKILL


def check_database(db_file: Path) -> sqlite3.Connection:
    """Open as a fresh process would (WAL recovery included) and check integrity."""
    conn = sqlite3.connect(db_file)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


def imported_ids(conn: sqlite3.Connection, source: str) -> list[str]:
    rows = conn.execute("SELECT external_id FROM tickets WHERE source = ? ORDER BY external_id",
                        (source,)).fetchall()
    return [r[0] for r in rows]


def _finish_import(data: Path, big: Path, source: str) -> None:
    """Re-run a killed import: it must add exactly the missing rows and duplicate nothing."""
    conn = check_database(data / "kbsvc.db")
    before = len(imported_ids(conn, source))
    conn.close()
    _, out = timed_run(data, "import", str(big), "--source", source)
    last = out.strip().splitlines()[-1]
    m = re.fullmatch(r"imported (\d+), updated (\d+), skipped (\d+)", last)
    assert m, last
    assert tuple(map(int, m.groups())) == (ROWS - before, 0, before)
    conn = check_database(data / "kbsvc.db")
    assert imported_ids(conn, source) == [f"C{i:05d}" for i in range(ROWS)]
    conn.close()


def test_import_survives_sigkill(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    write_csv(big, ROWS)
    duration, _ = timed_run(tmp_path / "calibration", "import", str(big), "--source", "cal")
    data = tmp_path / "data"
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "7")))
    # Each crash imports under its own source into the same database, so every kill lands in
    # fresh writes and the damage of earlier kills accumulates.
    crashed: dict[str, int] = {}
    attempts = 0
    while len(crashed) < KILLS and attempts < KILLS * 3:
        attempts += 1
        source = f"crash-{attempts}"
        if not kill_at_random(data, duration, rnd, "import", str(big), "--source", source):
            continue  # finished before the signal: not a crash
        if not (data / "kbsvc.db").exists():
            crashed[source] = 0
            continue  # killed before the database was created
        conn = check_database(data / "kbsvc.db")
        ids = imported_ids(conn, source)
        conn.close()
        crashed[source] = len(ids)
        # Whole batches only, and in file order: exactly the first N rows.
        assert len(ids) % BATCH_SIZE == 0 or len(ids) == ROWS, len(ids)
        assert ids == [f"C{i:05d}" for i in range(len(ids))]
    assert len(crashed) == KILLS, f"only {len(crashed)} runs were still going when killed"
    print(f"rows committed when killed: {list(crashed.values())}")
    assert len(set(crashed.values())) > 2, "kills should land at different points"
    interrupted = [s for s, n in crashed.items() if n < ROWS]
    for source in (interrupted[0], interrupted[-1]) if interrupted else ():
        _finish_import(data, big, source)
    conn = check_database(data / "kbsvc.db")
    total = sum(crashed.values()) + sum(ROWS - crashed[s] for s in {*interrupted[:1],
                                                                      *interrupted[-1:]})
    assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (total,)
    conn.close()


def test_import_with_capture_commits_tickets_and_entries_together(tmp_path: Path) -> None:
    """A batch writes tickets, entries, links and change rows in one transaction."""
    rows = 2 * BATCH_SIZE
    big = tmp_path / "cap.csv"
    write_csv(big, rows, prefix="K")
    args = ("import", str(big), "--source", "cap", "--capture", "draft")
    duration, _ = timed_run(tmp_path / "calibration", *args)
    data = tmp_path / "data"
    rnd = random.Random(11)
    for _ in range(3):
        if not kill_at_random(data, duration, rnd, *args) or not (data / "kbsvc.db").exists():
            continue
        conn = check_database(data / "kbsvc.db")
        tickets = len(imported_ids(conn, "cap"))
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        links = conn.execute("SELECT count(*) FROM entry_links").fetchone()[0]
        changes = conn.execute("SELECT count(DISTINCT entry_id) FROM entry_changes").fetchone()[0]
        conn.close()
        assert tickets % BATCH_SIZE == 0 and tickets == entries == links == changes
    timed_run(data, *args)
    conn = check_database(data / "kbsvc.db")
    assert len(imported_ids(conn, "cap")) == rows
    assert conn.execute("SELECT count(*) FROM entries").fetchone() == (rows,)
    conn.close()
