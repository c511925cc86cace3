"""`kbsvc serve` with two worker processes sharing one memory-mapped index: both serve the
same generation, a write through one is found through the other, and killing the writer in
the middle of a publish leaves readers on the previous generation while another takes over."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from indexer import store
from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.factories import make_entry
from tests.reliability import serve
from tests.web.conftest import free_port

SYNC_S = 0.2  # KBSVC_SEARCH__SYNC_INTERVAL_S of the server under test
SEEN_WITHIN_S = 30.0  # a bound for a loaded CI host, not a measurement (see bench/)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def server(settings: Settings, session: Session) -> Iterator[tuple[str, dict[str, str]]]:
    words = ["网络交换机", "打印驱动", "门诊排队", "病案归档", "药房发药", "检验条码"]
    for i in range(24):  # enough for the corpus-fitted dense channel
        make_entry(session, title=f"{words[i % 6]}问题{i}", symptom=f"{words[i % 6]}第{i}例")
    _r, key = auth_service.create_api_key(session, name="workers", role=Role.admin)
    session.commit()
    port = free_port()
    proc = serve.start(
        settings,
        port,
        ready=False,  # ready here means both workers, checked below
        KBSVC_SEARCH__SYNC_INTERVAL_S=str(SYNC_S),
        KBSVC_SEARCH__PUBLISH_INTERVAL_S="1",
        KBSVC_WORKERS="2",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert proc.poll() is None, (settings.data_dir / "server.log").read_text()
            if len(_ready_workers(base, tries=10)) == 2:
                break
            time.sleep(0.5)
        else:
            pytest.fail("two ready workers did not appear")
        headers = {"X-API-Key": key}
        warm: set[int] = set()  # each worker's first search loads lazily built parts
        while len(warm) < 2 and time.monotonic() < deadline:
            r = _get(f"{base}/api/v1/search", params={"q": "打印驱动"}, headers=headers)
            if r is not None and r.status_code == 200:
                warm.add(int(r.headers["X-Kbsvc-Worker"]))
        yield base, headers
    finally:
        serve.stop(proc)


def _get(url: str, **kw: Any) -> httpx.Response | None:
    try:  # a fresh connection each time, so the kernel may hand it to either worker
        return httpx.get(url, timeout=10, **kw)
    except httpx.HTTPError:
        return None


def _ready_workers(base: str, tries: int = 60) -> dict[int, dict[str, Any]]:
    """/readyz bodies by worker pid, from workers that answered ready."""
    seen: dict[int, dict[str, Any]] = {}
    for _ in range(tries):
        r = _get(f"{base}/readyz")
        if r is not None and r.status_code == 200:
            seen[int(r.headers["X-Kbsvc-Worker"])] = r.json()["search"]
        if len(seen) == 2:
            break
    return seen


def _publish(base: str, headers: dict[str, str], title: str) -> tuple[int, int]:
    """Create and publish an entry through the API: (entry id, pid of the worker that published)."""
    r = httpx.post(
        f"{base}/api/v1/entries",
        headers=headers,
        timeout=30,
        json={"title": title, "symptom": title, "solution": "重启", "system": "HIS"},
    )
    assert r.status_code == 201, r.text
    entry = r.json()["id"]
    for step in ("submit", "publish"):
        p = httpx.post(
            f"{base}/api/v1/entries/{entry}/{step}", headers=headers, json={}, timeout=30
        )
        assert p.status_code < 300, p.text
    return entry, int(p.headers["X-Kbsvc-Worker"])


def _found_by(base: str, headers: dict[str, str], q: str, entry: int, pid: int) -> bool:
    """Whether worker `pid` finds `entry` for `q` within SEEN_WITHIN_S."""
    deadline = time.monotonic() + SEEN_WITHIN_S
    while time.monotonic() < deadline:
        r = _get(f"{base}/api/v1/search", params={"q": q}, headers=headers)
        mine = r is not None and int(r.headers.get("X-Kbsvc-Worker", 0)) == pid
        if mine and r is not None and entry in [h["entry"]["id"] for h in r.json()["data"]]:
            return True
    return False


def test_two_workers_serve_one_generation_and_each_others_writes(
    server: tuple[str, dict[str, str]],
) -> None:
    base, headers = server
    workers = _ready_workers(base)
    assert len(workers) == 2
    gens = {s["generation"] for s in workers.values()}
    assert len(gens) == 1 and gens != {""}
    roles = sorted(s["role"] for s in workers.values())
    assert roles == ["reader", "writer"]
    writer = next(pid for pid, s in workers.items() if s["role"] == "writer")
    assert all(s["writer"]["pid"] == writer for s in workers.values())

    entry, via = _publish(base, headers, "医保读卡器蓝屏死机")
    other = next(pid for pid in workers if pid != via)
    assert _found_by(base, headers, "医保读卡器蓝屏", entry, other)


def test_killing_the_writer_mid_publish_keeps_readers_and_elects_another(
    server: tuple[str, dict[str, str]], settings: Settings
) -> None:
    base, headers = server
    index = settings.index_dir
    for attempt in range(8):
        workers = _ready_workers(base)
        writer = next(pid for pid, s in workers.items() if s["role"] == "writer")
        before = store.current_generation(index)
        nxt = index / f"gen-{int(before.split('-')[1]) + 1:06d}"
        entry, _via = _publish(base, headers, f"自助机打印凭条空白{attempt}")
        deadline = time.monotonic() + 30
        while not nxt.exists() and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(writer, signal.SIGSTOP)  # frozen mid-publish: files written, manifest not yet
        if store.current_generation(index) == before:
            break
        os.kill(writer, signal.SIGCONT)  # it finished first; try with the next publish
    else:
        pytest.fail("never caught the writer mid-publish")
    # Frozen mid-publish (holding the writer lock): the other worker serves the last committed
    # generation, and finds the write from its in-memory delta.
    reader = next(pid for pid in workers if pid != writer)
    seen = [s for pid, s in _ready_workers(base, tries=20).items() if pid == reader]
    assert seen and seen[0]["generation"] == before and seen[0]["role"] == "reader"
    assert _found_by(base, headers, f"自助机打印凭条空白{attempt}", entry, reader)
    os.kill(writer, signal.SIGKILL)

    # Another process takes the lock and publishes past the half-written generation.
    deadline = time.monotonic() + 120
    new: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        status = {pid: s for pid, s in _ready_workers(base, tries=10).items() if pid != writer}
        new = [s for s in status.values() if s["role"] == "writer"]
        if new and store.current_generation(index) > nxt.name:
            break
        time.sleep(0.5)
    else:
        pytest.fail("no new writer published after the old one was killed")
    assert new[0]["pid"] != writer
    assert _found_by(base, headers, f"自助机打印凭条空白{attempt}", entry, new[0]["pid"])


KEY_CHECK_S = 2.0  # KBSVC_AUTH__KEY_CHECK_S default: the documented bound for other workers


def test_revoked_key_stops_working_on_every_worker(
    server: tuple[str, dict[str, str]], session: Session
) -> None:
    base, admin = server
    row, key = auth_service.create_api_key(session, name="to-revoke", role=Role.viewer)
    session.commit()
    me = f"{base}/api/v1/auth/me"
    cached: set[int] = set()  # workers that have verified (and so cached) the key
    for _ in range(200):
        r = _get(me, headers={"X-API-Key": key})
        if r is not None and r.status_code == 200:
            cached.add(int(r.headers["X-Kbsvc-Worker"]))
        if len(cached) == 2:
            break
    assert len(cached) == 2
    r = httpx.post(f"{base}/api/v1/admin/api-keys/{row.id}/revoke", headers=admin, timeout=10)
    assert r.status_code == 200
    time.sleep(KEY_CHECK_S)
    answers: dict[int, set[int]] = {}
    for _ in range(200):
        r = _get(me, headers={"X-API-Key": key})
        if r is not None:
            answers.setdefault(int(r.headers["X-Kbsvc-Worker"]), set()).add(r.status_code)
        if len(answers) == 2:
            break
    assert set(answers) == cached and all(codes == {401} for codes in answers.values()), answers
