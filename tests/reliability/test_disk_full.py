"""A data directory on a full disk (a small tmpfs, mounted for the test; root only): writes
answer JSON 507 and store nothing half-way, /readyz says not ready, the CLI prints one line,
and once space returns the service writes again; every acknowledged write is still there."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kbsvc import db
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.cli import kbsvc_env, run_kbsvc_with

SIZE_MB = 96

pytestmark = pytest.mark.slow


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A SIZE_MB tmpfs; skipped where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path: Path) -> Path:
    """Write a ballast file until the disk refuses more."""
    ballast = path / "ballast.bin"
    chunk = b"\0" * (1 << 20)
    with ballast.open("wb") as fh:
        try:
            while True:
                fh.write(chunk)
                fh.flush()
        except OSError:
            pass
    try:  # the last partial chunk too: fill to the last block
        with ballast.open("ab") as fh:
            while True:
                fh.write(b"\0" * 4096)
                fh.flush()
    except OSError:
        pass
    return ballast


def _entry(i: int, big: bool = False) -> dict[str, str]:
    return {
        "title": f"磁盘写满测试{i} 检验科LIS条码打印机不出纸",
        "symptom": "条码打印机不出纸" + ("，现场反复出现" * 2500 if big else ""),
        "solution": "更换碳带后重启打印服务",
        "system": "LIS",
    }


def test_full_disk_gives_json_errors_and_recovers(small_disk: Path, tmp_path: Path) -> None:
    from api.app import create_app

    settings = Settings(data_dir=small_disk / "data", database_url="", _env_file=None)  # type: ignore[call-arg]
    engine = db.make_engine(settings)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        _row, key = auth_service.create_api_key(s, name="disk", role=Role.reviewer)
    headers = {"X-API-Key": key}
    acked: dict[int, str] = {}
    refused: list[str] = []
    with TestClient(create_app(settings, db_engine=engine), raise_server_exceptions=False) as c:
        for i in range(5):
            r = c.post("/api/v1/entries", json=_entry(i), headers=headers)
            assert r.status_code == 201, r.text
            acked[r.json()["id"]] = r.json()["title"]
        assert c.get("/readyz").status_code == 200

        ballast = _fill(small_disk)
        statuses = []
        for i in range(5, 25):
            r = c.post("/api/v1/entries", json=_entry(i, big=True), headers=headers)
            statuses.append(r.status_code)
            if r.status_code == 201:  # a page SQLite had spare: acknowledged, so it must stay
                acked[r.json()["id"]] = r.json()["title"]
                continue
            assert r.status_code == 507, r.text
            body = r.json()
            assert body["code"] == "insufficient_storage" and "磁盘空间不足" in body["message"]
            assert r.headers["Retry-After"]
            refused.append(_entry(i)["title"])
        assert 507 in statuses, statuses
        ticket = c.post(
            "/api/v1/tickets",
            json={"source": "disk", "external_id": "D-1", "title": "满盘", "symptom": "x" * 20000},
            headers=headers,
        )
        assert ticket.status_code in (200, 507), ticket.text
        ready = c.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["disk"].startswith("low")

        # The CLI on the same full disk: one error line, no traceback.
        csv = tmp_path / "t.csv"
        csv.write_text(
            "工单号,标题,问题描述,处理方法\n"
            + "".join(f"D{i},满盘{i},{'描述' * 3000},处理\n" for i in range(200)),
            encoding="utf-8",
        )
        env = kbsvc_env(settings.data_dir, HF_HUB_OFFLINE="1", KBSVC_DATABASE_URL=None)
        cli = run_kbsvc_with(env, "import", str(csv), "--source", "disk-cli", timeout=300)
        assert cli.returncode != 0, cli.stdout
        assert "Traceback" not in cli.stderr, cli.stderr[-2000:]
        lines = [ln for ln in cli.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "磁盘空间不足" in lines[0], cli.stderr[-2000:]

        # Space returns: ready again, writes succeed, nothing acknowledged was lost.
        ballast.unlink()
        assert c.get("/readyz").status_code == 200
        after = c.post("/api/v1/entries", json=_entry(99), headers=headers)
        assert after.status_code == 201, after.text
        acked[after.json()["id"]] = after.json()["title"]
        for entry_id, title in acked.items():
            got = c.get(f"/api/v1/entries/{entry_id}", headers=headers)
            assert got.status_code == 200 and got.json()["title"] == title
        listed = c.get("/api/v1/entries", params={"limit": 200}, headers=headers).json()
        assert sorted(e["id"] for e in listed["data"]) == sorted(acked)
        assert not {e["title"] for e in listed["data"]} & set(refused)
        search = c.app.state.search_engine  # type: ignore[attr-defined]
        search.sync()
        search.save()  # the index writes a whole new generation on the freed disk
        assert sorted(search.retriever.lexical.ids) == sorted(acked)
    engine.dispose()
    conn = sqlite3.connect(settings.data_dir / "kbsvc.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    imported = conn.execute("SELECT count(*) FROM tickets WHERE source = 'disk-cli'").fetchone()
    assert imported[0] % 200 == 0  # whole batches or nothing
    conn.close()
    print(f"\ndisk full: {statuses.count(507)} writes refused with 507, {len(acked)} kept")
