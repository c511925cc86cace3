"""Soak: 8 writers and 32 readers over HTTP against the default `kbsvc serve` for
KBSVC_SOAK_SECONDS (10 in `make test`, 60 in `make soak`), on SQLite and PostgreSQL. Zero
errors (no 5xx, no 503 from a drained pool, no dropped connection), and every acknowledged
write is readable and searchable afterwards, on whichever worker answers."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.reliability import serve as server
from tests.web.conftest import free_port

SECONDS = float(os.environ.get("KBSVC_SOAK_SECONDS", "10"))
WRITERS, READERS = 8, 32
WORDS = ["挂号", "收费", "医生站", "护士站", "检验", "影像", "手麻", "病案", "医保", "药房"]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def serve(settings: Settings, engine: Engine) -> Iterator[str]:
    """`kbsvc serve` exactly as an operator starts it (default workers)."""
    port = free_port()
    proc = server.start(settings, port)
    yield f"http://127.0.0.1:{port}"
    server.stop(proc)


@dataclass
class Tally:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    acked: dict[int, str] = field(default_factory=dict)  # entry id → title
    tickets: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, client: httpx.Client, method: str, url: str, **kw: object) -> httpx.Response:
        try:
            r = client.request(method, url, **kw)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            with self.lock:
                self.requests += 1
                self.errors.append(f"{method} {url}: {type(exc).__name__} {exc}")
            raise
        with self.lock:
            self.requests += 1
        return r

    def error(self, what: str, r: httpx.Response) -> None:
        with self.lock:
            self.errors.append(f"{what} {r.status_code} {r.text[:200]}")


def _title(w: int, i: int) -> str:
    a, b, c = WORDS[i % 10], WORDS[(i // 10) % 10], WORDS[w % 10]
    return f"{a}{b}{c}故障 编号SK{w}{i:04d} 护士站打印机无法打印"


def writer(base: str, key: str, w: int, until: float, t: Tally) -> None:
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        i = 0
        while time.monotonic() < until:
            title = _title(w, i)
            i += 1
            try:
                r = t.call(c, "POST", "/api/v1/entries", json={"title": title, "symptom": title,
                           "solution": "重装驱动", "system": "打印机"})  # fmt: skip
                if r.status_code != 201:
                    t.error("create", r)
                    continue
                entry_id = r.json()["id"]
                for step in ("submit", "publish"):
                    p = t.call(c, "POST", f"/api/v1/entries/{entry_id}/{step}", json={})
                    if p.status_code >= 300:
                        t.error(step, p)
                        break
                else:
                    with t.lock:
                        t.acked[entry_id] = title
                ext = f"SK{w}-{i}"
                tk = t.call(c, "POST", "/api/v1/tickets", json={"source": "soak",
                            "external_id": ext, "title": title, "symptom": "无法打印"})  # fmt: skip
                if tk.status_code != 200:
                    t.error("ticket", tk)
                else:
                    with t.lock:
                        t.tickets.append(ext)
            except httpx.HTTPError:
                continue


def reader(base: str, key: str, seed: int, until: float, t: Tally) -> None:
    rnd = random.Random(seed)
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        while time.monotonic() < until:
            try:
                op = rnd.randrange(4)
                if op == 0:
                    r = t.call(c, "GET", "/api/v1/entries", params={"limit": 20})
                    if r.status_code != 200:
                        t.error("list", r)
                    elif data := r.json()["data"]:
                        one = t.call(c, "GET", f"/api/v1/entries/{rnd.choice(data)['id']}")
                        if one.status_code not in (200, 404):
                            t.error("get", one)
                elif op == 1:
                    r = t.call(c, "GET", "/api/v1/search", params={"q": rnd.choice(WORDS) + "故障"})
                    if r.status_code != 200:
                        t.error("search", r)
                elif op == 2:
                    r = t.call(c, "POST", "/api/v1/suggest", json={"title": "打印机无法打印",
                               "text": rnd.choice(WORDS)})  # fmt: skip
                    if r.status_code != 200:
                        t.error("suggest", r)
                else:
                    r = t.call(c, "GET", "/api/v1/tickets", params={"limit": 20})
                    if r.status_code != 200:
                        t.error("tickets", r)
            except httpx.HTTPError:
                continue


def _searchable(base: str, key: str, acked: dict[int, str], seconds: float = 120) -> list[int]:
    """Acknowledged entries a search by their title does not return (after the index syncs)."""
    missing = dict(acked)
    deadline = time.monotonic() + seconds
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        while missing and time.monotonic() < deadline:
            for entry_id, title in list(missing.items()):
                # Every worker has its own index: ask three times (connections spread).
                found = 0
                for _ in range(3):
                    r = c.get("/api/v1/search", params={"q": title, "k": 20})
                    ids = [(h.get("entry") or h).get("id") for h in r.json().get("data", [])]
                    found += entry_id in ids
                if found == 3:
                    del missing[entry_id]
            if missing:
                time.sleep(1)
    return sorted(missing)


def test_writers_and_readers_soak(serve: str, session: Session) -> None:
    _r, wkey = auth_service.create_api_key(session, name="soak-writer", role=Role.reviewer)
    _r, rkey = auth_service.create_api_key(session, name="soak-reader", role=Role.viewer)
    _r, akey = auth_service.create_api_key(session, name="soak-check", role=Role.admin)
    session.commit()
    t = Tally()
    until = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=writer, args=(serve, wkey, w, until, t)) for w in range(WRITERS)
    ]
    threads += [
        threading.Thread(target=reader, args=(serve, rkey, 100 + r, until, t))
        for r in range(READERS)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=SECONDS + 300)
    print(
        f"\nsoak {SECONDS:.0f} s: {t.requests} requests, {len(t.errors)} errors, "
        f"{len(t.acked)} entries and {len(t.tickets)} tickets acknowledged"
    )
    assert t.errors == [], t.errors[:10]
    assert t.acked, "no write was acknowledged"

    with httpx.Client(base_url=serve, headers={"X-API-Key": akey}, timeout=60) as c:
        for entry_id, title in t.acked.items():
            r = c.get(f"/api/v1/entries/{entry_id}")
            assert r.status_code == 200 and r.json()["title"] == title
            assert r.json()["status"] == "published"
        listed = c.get("/api/v1/tickets", params={"source": "soak", "limit": 200}).json()
        assert listed["count"] == len(t.tickets)
    assert _searchable(serve, akey, t.acked) == []
