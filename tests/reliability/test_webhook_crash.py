"""Webhook delivery under SIGKILL: a helpdesk pushes signed `resolved` events (batches of 5)
to `kbsvc serve`; the server is killed at a random moment (KBSVC_KILLS times: 3 in `make
test`, 20 in `make soak`) and restarted, and the sender re-sends every batch it has no answer
for plus the last answered one (at-least-once). Afterwards each event was applied exactly
once: one ticket, one captured draft, one source link and one event row each, no orphans."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import signal
import threading
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import Role
from kbsvc.config import Settings
from tests.reliability import serve as server
from tests.web.conftest import free_port

KILLS = int(os.environ.get("KBSVC_KILLS", "3"))
BATCH = 5
BATCHES_PER_ROUND = 12

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _batch(n: int) -> list[dict[str, Any]]:
    return [
        {
            "event": "resolved",
            "id": f"ev-{n}-{j}",
            "ticket": {
                "external_id": f"INC-{n:04d}-{j}",
                "title": f"自助机{n}-{j}号不出凭条",
                "symptom": "门诊大厅自助机缴费后不出凭条",
                "solution": "更换热敏纸并复位打印机",
                "system": "自助机",
            },
        }
        for j in range(BATCH)
    ]


def _send(client: httpx.Client, secret: str, payload: Any) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/hooks/itsm",
        content=body,
        headers={
            "X-Kbsvc-Timestamp": stamp,
            "X-Kbsvc-Signature": "sha256=" + mac,
            "Content-Type": "application/json",
        },
    )


class Sender:
    """Sends batches in order; remembers which ones got a 200."""

    def __init__(self, base: str, secret: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.secret = secret
        self.answered: set[int] = set()
        self.server_errors: list[str] = []

    def run(self, batches: range, stop: threading.Event) -> None:
        for n in batches:
            if stop.is_set():
                return
            try:
                r = _send(self.client, self.secret, _batch(n))
            except httpx.HTTPError:
                return  # the server died mid-request: this batch stays unanswered
            if r.status_code == 200:
                self.answered.add(n)
            else:
                self.server_errors.append(f"{r.status_code} {r.text[:200]}")
                return


def _counts(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
        return {
            "tickets": one("SELECT count(*) FROM tickets WHERE source = 'itsm'"),
            "distinct": one("SELECT count(DISTINCT external_id) FROM tickets"),
            "events": one("SELECT count(*) FROM hook_events"),
            "entries": one("SELECT count(*) FROM entries"),
            "links": one("SELECT count(*) FROM entry_links WHERE kind = 'source'"),
            "unlinked": one(
                "SELECT count(*) FROM entries e WHERE NOT EXISTS "
                "(SELECT 1 FROM entry_links l WHERE l.entry_id = e.id)"
            ),
            "event_without_ticket": one(
                "SELECT count(*) FROM hook_events h WHERE NOT EXISTS "
                "(SELECT 1 FROM tickets t WHERE t.id = h.ticket_id)"
            ),
        }


def test_webhook_delivery_survives_sigkill(
    settings: Settings, engine: Engine, session: Session
) -> None:
    _r, key = auth_service.create_api_key(session, name="hook-admin", role=Role.admin)
    session.commit()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = server.start(settings, port)
    made = httpx.post(
        f"{base}/api/v1/hooks",
        json={"name": "itsm", "capture": "draft"},
        headers={"X-API-Key": key},
        timeout=30,
    )
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "23")))
    sent_upto, kills, killed_midway = 0, 0, 0
    try:
        while kills < KILLS:
            sender = Sender(base, secret)
            stop = threading.Event()
            batches = range(sent_upto, sent_upto + BATCHES_PER_ROUND)
            th = threading.Thread(target=sender.run, args=(batches, stop))
            th.start()
            time.sleep(rnd.uniform(0.05, 1.5))
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            stop.set()
            th.join(timeout=60)
            kills += 1
            assert sender.server_errors == []
            sender.client.close()
            killed_midway += len(sender.answered) < BATCHES_PER_ROUND
            proc = server.start(settings, port)
            # At least once: everything unanswered, and the last answered batch again.
            retry = httpx.Client(base_url=base, timeout=60)
            last = max(sender.answered, default=None)
            for n in batches:
                if n not in sender.answered or n == last:
                    r = _send(retry, secret, _batch(n))
                    assert r.status_code == 200, r.text
                    assert r.json()["applied"] + r.json()["duplicates"] == BATCH
            retry.close()
            sent_upto += BATCHES_PER_ROUND
            c = _counts(engine)
            events = sent_upto * BATCH
            assert c == {
                "tickets": events,
                "distinct": events,
                "events": events,
                "entries": events,
                "links": events,
                "unlinked": 0,
                "event_without_ticket": 0,
            }, c
    finally:
        server.stop(proc)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
    assert killed_midway >= 1, "every round finished before its kill"
    print(f"\nwebhook: {kills} kills, {sent_upto * BATCH} events, each applied once")
