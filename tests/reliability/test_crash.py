"""Crash safety: SIGKILL a running import and a running reindex at random points
(KBSVC_KILLS times each: 3 in `make test`, 20 in `make soak`), then the database must be
intact, hold whole batches only, and a re-run must finish the job with nothing lost and nothing
duplicated; a restarted index must catch up and agree with the database."""

from __future__ import annotations

import csv
import os
import random
import re
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.intake.service import BATCH_SIZE
from tests.cli import kbsvc_env, popen_kbsvc

KILLS = int(os.environ.get("KBSVC_KILLS", "3"))
ROWS = 3000  # 15 batches
HEADER = ["工单号", "标题", "问题描述", "处理方法", "系统", "科室"]

pytestmark = pytest.mark.slow


def write_csv(path: Path, rows: int, prefix: str = "C") -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for i in range(rows):
            out.writerow(
                [
                    f"{prefix}{i:05d}",
                    f"{i}号工单：护士站打印机无法打印",
                    f"病区护士站{i}号打印机打印时提示脱机，\n重启无效",
                    "重新安装驱动并设置默认打印机",
                    "打印机",
                    "内科",
                ]
            )


def kbsvc(data_dir: Path, *args: str) -> subprocess.Popen[str]:
    env = kbsvc_env(data_dir, HF_HUB_OFFLINE="1", KBSVC_DATABASE_URL=None)
    return popen_kbsvc(env, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


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


def kill_after_rows(
    data_dir: Path, table: str, target: int, rnd: random.Random, *args: str
) -> bool:
    """SIGKILL once `table` holds `target` rows (plus a random moment); True if still running."""
    proc = kbsvc(data_dir, *args)
    db_file = data_dir / "kbsvc.db"
    while proc.poll() is None:
        try:
            with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1) as conn:
                if conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= target:
                    break
        except sqlite3.Error:
            pass  # not created or migrated yet
        time.sleep(0.02)
    time.sleep(rnd.uniform(0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    return proc.returncode == -signal.SIGKILL


def _ticket_count(data_dir: Path) -> int:
    """Tickets in the database so far (0 before it exists or is migrated)."""
    try:
        with closing(sqlite3.connect(f"file:{data_dir / 'kbsvc.db'}?mode=ro", uri=True)) as conn:
            return int(conn.execute("SELECT count(*) FROM tickets").fetchone()[0])
    except sqlite3.Error:
        return 0


def check_database(db_file: Path) -> sqlite3.Connection:
    """Open as a fresh process would (WAL recovery included) and check integrity."""
    conn = sqlite3.connect(db_file)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    return conn


def imported_ids(conn: sqlite3.Connection, source: str) -> list[str]:
    rows = conn.execute(
        "SELECT external_id FROM tickets WHERE source = ? ORDER BY external_id", (source,)
    ).fetchall()
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
    finished = 0  # runs that completed before their signal (a batch import can be that quick)
    attempts = 0
    while len(crashed) < KILLS and attempts < KILLS * 3:
        attempts += 1
        source = f"crash-{attempts}"
        args = ("import", str(big), "--source", source)
        # Every other kill waits for a random number of this run's rows: a batched import
        # spends most of its wall time starting up, so a random moment alone seldom lands
        # between its batches (20 kills at random moments hit only 2 distinct row counts).
        if attempts % 2:
            killed = kill_at_random(data, duration, rnd, *args)
        else:
            target = _ticket_count(data) + rnd.randrange(1, ROWS)
            killed = kill_after_rows(data, "tickets", target, rnd, *args)
        if not killed:
            finished += 1  # not a crash, but its rows are in the database
            duration *= 0.85  # the machine got faster than the calibration run
            continue
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
    print(
        f"\nimport: {len(crashed)} kills survived, rows committed when killed: "
        f"{list(crashed.values())}, {finished} runs finished first"
    )
    assert len(set(crashed.values())) >= min(KILLS, 4) - 1, "kills should land at different points"
    interrupted = [s for s, n in crashed.items() if n < ROWS]
    for source in (interrupted[0], interrupted[-1]) if interrupted else ():
        _finish_import(data, big, source)
    conn = check_database(data / "kbsvc.db")
    total = (
        sum(crashed.values())
        + sum(ROWS - crashed[s] for s in {*interrupted[:1], *interrupted[-1:]})
        + finished * ROWS
    )
    assert conn.execute("SELECT count(*) FROM tickets").fetchone() == (total,)
    # Completed CLI imports are audited (counts only, never row text).
    audited = conn.execute("SELECT summary FROM audit_events WHERE action = 'CLI import'")
    assert any("imported" in row[0] for row in audited.fetchall())
    conn.close()


def test_import_with_capture_commits_tickets_and_entries_together(tmp_path: Path) -> None:
    """A batch writes tickets, published entries, links and change rows in one transaction;
    after each kill the index (restarted) agrees with the database, and a re-run completes."""
    rows = 6 * BATCH_SIZE
    big = tmp_path / "cap.csv"
    write_csv(big, rows, prefix="K")
    args = ("import", str(big), "--source", "cap", "--capture", "published")
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "11")))
    kills = 0
    # A few resumed kills finish one data directory's import: start another until KILLS
    # kills have landed.
    for cycle in range(KILLS):
        if kills == KILLS:
            break
        data = tmp_path / f"data-{cycle}"
        settings = Settings(data_dir=data, database_url="", _env_file=None)  # type: ignore[call-arg]
        kills += _kill_capture_runs(data, settings, rows, rnd, args, KILLS - kills)
        timed_run(data, *args)
        conn = check_database(data / "kbsvc.db")
        assert len(imported_ids(conn, "cap")) == rows
        assert conn.execute("SELECT count(*) FROM entries").fetchone() == (rows,)
        conn.close()
        _assert_index_agrees(settings)
    assert kills == KILLS, f"only {kills} capture imports were still going when killed"
    print(f"\nimport --capture published: {kills} kills survived in {cycle + 1} data dirs")


def _kill_capture_runs(
    data: Path, settings: Settings, rows: int, rnd: random.Random, args: tuple[str, ...], most: int
) -> int:
    """Kill resumed imports in one data directory (at most `most`) until it is nearly done."""
    kills = 0
    for _ in range(most * 3):
        if kills == most:
            break
        # Each run resumes the last (existing rows are skipped): aim past what is there.
        done = _ticket_count(data)
        if done >= rows - BATCH_SIZE:
            break
        target = rnd.randrange(done, rows - BATCH_SIZE, BATCH_SIZE // 4)
        if not kill_after_rows(data, "tickets", target, rnd, *args):
            continue
        kills += 1
        conn = check_database(data / "kbsvc.db")
        tickets = len(imported_ids(conn, "cap"))
        entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
        links = conn.execute("SELECT count(*) FROM entry_links").fetchone()[0]
        changes = conn.execute("SELECT count(DISTINCT entry_id) FROM entry_changes").fetchone()[0]
        conn.close()
        assert tickets % BATCH_SIZE == 0 and tickets == entries == links == changes
        _assert_index_agrees(settings)
    return kills


def _assert_index_agrees(settings: Settings) -> None:
    """A restarted index holds exactly the published entries, once each, and finds them."""
    from sqlmodel import Session, select

    from kbsvc import db
    from kbsvc.entries.models import Entry, EntryStatus
    from kbsvc.search.engine import build_search_engine

    engine = db.make_engine(settings)
    search = build_search_engine(settings, engine)
    search.start()
    with Session(engine) as session:
        published = list(
            session.execute(select(Entry.id).where(Entry.status == EntryStatus.published))
            .scalars()
            .all()
        )
    ids = search.retriever.lexical.ids
    assert len(ids) == len(set(ids)), "an entry is indexed twice"
    assert sorted(ids) == sorted(published)
    if published:
        found = {h.id for h in search.search("护士站打印机无法打印", len(published) + 1).hits}
        assert found == set(published)
    search.stop()
    engine.dispose()


# ---- reindex ----------------------------------------------------------------------------
WORDS = [
    "挂号",
    "收费",
    "医生站",
    "护士站",
    "检验",
    "影像",
    "手麻",
    "病案",
    "医保",
    "药房",
    "打印机",
    "扫码枪",
    "读卡器",
    "网络",
    "数据库",
    "接口",
    "证书",
    "报表",
    "排班",
    "叫号",
]
ENTRIES = 1500


def _title(i: int) -> str:
    # Distinct word triples plus a code: an entry's own title finds it among hundreds.
    a, b, c = WORDS[i % 20], WORDS[(i // 20) % 20], WORDS[(i // 400 + i) % 20]
    return f"{a}{b}{c}故障 编号KB{i:05d}"


def _seed_entries(settings: Settings, start: int, n: int) -> None:
    from sqlmodel import Session

    from kbsvc import db
    from kbsvc.entries import service
    from kbsvc.entries.models import EntryCreate, EntryStatus

    engine = db.make_engine(settings)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        for i in range(start, start + n):
            service.create(
                session,
                data=EntryCreate(
                    title=_title(i), symptom=f"{_title(i)}现象", solution="按手册处理", system="HIS"
                ),
                actor="crash",
                status=EntryStatus.published,
            )
        session.commit()
    engine.dispose()


def _churn(settings: Settings, rnd: random.Random, next_id: int) -> int:
    """Between crashes the database moves on: new entries, edits and deletes to catch up on."""
    from sqlmodel import Session, select

    from kbsvc import db
    from kbsvc.entries import service
    from kbsvc.entries.models import Entry, EntryUpdate

    _seed_entries(settings, next_id, 10)
    engine = db.make_engine(settings)
    with Session(engine, expire_on_commit=False) as session:
        ids = list(session.execute(select(Entry.id)).scalars())
        for entry_id in rnd.sample(ids, 3):
            e = service.get(session, entry_id=entry_id, principal=SYSTEM)
            service.update(
                session,
                entry_id=entry_id,
                actor="crash",
                data=EntryUpdate(solution=f"更新于{next_id}", base_version=e.version),
                principal=SYSTEM,
            )
            session.commit()
        for entry_id in rnd.sample(ids, 2):
            service.delete(session, entry_id=entry_id, actor="crash", principal=SYSTEM)
            session.commit()
    engine.dispose()
    return next_id + 10


def _assert_index_catches_up(settings: Settings) -> None:
    """A restarted engine (load or rebuild, then sync) finds every published entry, no more."""
    from sqlmodel import Session, select

    from indexer.fields import Filters
    from kbsvc import db
    from kbsvc.entries.models import Entry, EntryStatus
    from kbsvc.search.engine import build_search_engine

    engine = db.make_engine(settings)
    search = build_search_engine(settings, engine)
    search.start()
    with Session(engine) as session:
        rows = list(
            session.execute(
                select(Entry.id, Entry.title).where(Entry.status == EntryStatus.published)
            ).all()
        )
        latest = session.execute(
            select(Entry.change_seq).order_by(Entry.change_seq.desc()).limit(1)
        ).scalar()  # type: ignore[union-attr]
    assert search.last_seq >= (latest or 0)
    missing = []
    for entry_id, title in rows:
        hits = search.search(title, 10, Filters(status="published")).hits
        if entry_id not in [h.id for h in hits]:
            missing.append(entry_id)
    assert missing == [], f"published but not found after restart: {missing[:20]}"
    assert search.status()["entries"] == len(rows)
    engine.dispose()


def test_reindex_survives_sigkill(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="", _env_file=None)  # type: ignore[call-arg]
    _seed_entries(settings, 0, ENTRIES)
    duration, out = timed_run(settings.data_dir, "reindex")
    assert "indexed" in out
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "13")))
    next_id, kills, attempts = ENTRIES, 0, 0
    while kills < KILLS and attempts < KILLS * 3:
        attempts += 1
        next_id = _churn(settings, rnd, next_id)
        if not kill_at_random(settings.data_dir, duration, rnd, "reindex"):
            duration *= 0.85  # finished first: the machine got faster than the calibration run
            continue
        kills += 1
        check_database(settings.data_dir / "kbsvc.db").close()
        if kills % 5 == 3:  # a restart mid-way must cope with whatever the kill left behind
            _assert_index_catches_up(settings)
    assert kills == KILLS, f"only {kills} reindex runs were still going when killed"
    print(f"\nreindex: {kills} kills survived in {attempts} runs")
    _assert_index_catches_up(settings)
