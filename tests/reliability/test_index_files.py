"""Index files damaged under a running `kbsvc serve`: every stored file replaced by garbage
and the manifest garbled, then the whole index folder deleted. The server keeps answering from
memory (new writes too); killed, it restarts by rebuilding rather than trusting the damage;
stopped, it writes a whole new generation. Every published entry is found after each step."""

from __future__ import annotations

import os
import shutil
import signal

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.reliability import serve as server
from tests.reliability.test_soak import _searchable, _title
from tests.web.conftest import free_port

pytestmark = [pytest.mark.slow]


def _publish(c: httpx.Client, titles: dict[int, str], n: int) -> None:
    title = _title(7, n)
    r = c.post("/api/v1/entries", json={"title": title, "symptom": title, "solution": "重启"})
    assert r.status_code == 201, r.text
    for step in ("submit", "publish"):
        assert c.post(f"/api/v1/entries/{r.json()['id']}/{step}", json={}).status_code == 200
    titles[r.json()["id"]] = title


def test_damaged_index_files_are_never_trusted(
    settings: Settings, engine: Engine, session: Session
) -> None:
    _r, key = auth_service.create_api_key(session, name="idx", role=Role.admin)
    session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    c = httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60)
    titles: dict[int, str] = {}
    proc = server.start(settings, port)
    try:
        for n in range(6):
            _publish(c, titles, n)
        assert _searchable(base, key, titles) == []
        server.stop(proc)  # a clean stop saves the index
        index = settings.index_dir
        proc = server.start(settings, port)

        # 1. Corrupt the files under the running server.
        # Every stored file replaced by garbage of its size (a new inode, as a restore or a
        # stray tool would leave it: a worker's memory maps keep the old one).
        damaged_files = [p for p in index.glob("gen-*/**/*") if p.is_file()]
        assert damaged_files
        for path in damaged_files:
            tmp = path.with_name(path.name + ".garbage")
            tmp.write_bytes(os.urandom(max(path.stat().st_size, 16)))
            os.replace(tmp, path)
        garbled = '{"kind": "search-index", "format'
        (index / "manifest.json").write_text(garbled, encoding="utf-8")
        _publish(c, titles, 6)
        assert _searchable(base, key, titles) == []
        os.killpg(proc.pid, signal.SIGKILL)  # no chance to save over the damage
        proc.wait()
        log = settings.data_dir / "server.log"
        seen = log.read_text()
        # (unless the server's periodic save already replaced the damage with a new generation)
        damaged = (index / "manifest.json").read_text(encoding="utf-8") == garbled
        proc = server.start(settings, port)
        assert not damaged or "unreadable index state" in log.read_text()[len(seen) :]
        assert _searchable(base, key, titles) == []

        # 2. Delete the whole index folder under the running server.
        shutil.rmtree(index)
        _publish(c, titles, 7)
        assert _searchable(base, key, titles) == []
        server.stop(proc)
        assert (index / "manifest.json").is_file()  # the clean stop wrote a whole generation
        proc = server.start(settings, port)
        assert _searchable(base, key, titles) == []
        status = httpx.get(f"{base}/readyz", timeout=30).json()
        assert status["search"]["entries"] == len(titles)
    finally:
        c.close()
        server.stop(proc)
