"""Several writer and reader processes against a live server (uvicorn, 2 workers) on loopback:
zero errors, and every acknowledged write is visible afterwards (by id, in lists and search)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.cli import popen_kbsvc
from tests.reliability import serve
from tests.web.conftest import free_port

CLIENT = Path(__file__).with_name("load_client.py")
WRITERS, WRITES_EACH = 4, 12
READERS, READS_EACH = 3, 25

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[str]:
    port = free_port()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = serve.env(settings)
    args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2")
    proc = popen_kbsvc(
        env,
        *args,
        stdout=subprocess.DEVNULL,
        stderr=open(settings.data_dir / "server.log", "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (settings.data_dir / "server.log").read_text()
            time.sleep(0.3)
        else:
            pytest.fail("server did not start")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait_until_ready(base: str, key: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
            return
        time.sleep(0.5)


def test_writers_and_readers(server: str, session: Session) -> None:
    _r, wkey = auth_service.create_api_key(session, name="writer", role=Role.reviewer)
    _r, rkey = auth_service.create_api_key(session, name="reader", role=Role.viewer)
    _r, ekey = auth_service.create_api_key(session, name="checker", role=Role.admin)
    session.commit()
    procs = [
        subprocess.Popen(
            [sys.executable, str(CLIENT), "writer", server, wkey, str(WRITES_EACH), str(i)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(WRITERS)
    ]
    procs += [
        subprocess.Popen(
            [sys.executable, str(CLIENT), "reader", server, rkey, str(READS_EACH), str(100 + i)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(READERS)
    ]
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    errors = [e for r in results for e in r["errors"]]
    assert errors == [], errors[:10]

    acked = [a for r in results[:WRITERS] for a in r["acked"]]
    tickets = [t for r in results[:WRITERS] for t in r["tickets"]]
    assert len(acked) == WRITERS * WRITES_EACH and len(tickets) == WRITERS * WRITES_EACH
    with httpx.Client(base_url=server, headers={"X-API-Key": ekey}, timeout=30) as c:
        for a in acked:
            r = c.get(f"/api/v1/entries/{a['id']}")
            assert r.status_code == 200 and r.json()["title"] == a["title"]
        assert c.get("/api/v1/entries", params={"limit": 1}).json()["count"] == len(acked)
        listed = c.get("/api/v1/tickets", params={"source": "load", "limit": 200}).json()
        assert sorted(t["external_id"] for t in listed["data"]) == sorted(tickets)
        paths = set(c.get("/openapi.json").json()["paths"])
        if "/api/v1/search" in paths and results[0]["published"]:
            _wait_until_ready(server, ekey)
            missing = []
            for a in acked:
                hits = c.get("/api/v1/search", params={"q": a["title"], "k": 50}).json()
                ids = [(h.get("entry") or h).get("id") for h in hits.get("data", [])]
                if a["id"] not in ids:
                    missing.append(a["id"])
            assert missing == [], f"acknowledged but not searchable: {missing}"
