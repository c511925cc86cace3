"""A delivery worker SIGKILLed mid-send: nothing is lost, and only the in-flight row is resent."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.config import Settings
from kbsvc.notify import service
from kbsvc.notify.models import DeliveryStatus, EventType, OutboxDelivery
from kbsvc.notify.worker import OutboxWorker
from kbsvc.timeutil import utcnow
from tests.cli import kbsvc_env, popen_kbsvc
from tests.kbsvc.notify.conftest import vendor_channel

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


KILLS = int(os.environ.get("KBSVC_KILLS", "3"))  # 20 in `make soak`


def test_killed_worker_loses_nothing_and_resends_only_in_flight(
    receiver: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    rx = receiver("webhook", delay_s=0.4)
    vendor_channel(session, rx, ["flag.opened"])
    env = kbsvc_env(
        settings.data_dir,
        KBSVC_DATABASE_URL=settings.database_url,
        KBSVC_NOTIFY__POLL_INTERVAL_S="0.1",
    )
    rnd = random.Random(int(os.environ.get("KBSVC_CRASH_SEED", "31")))
    for round_no in range(KILLS):
        for i in range(10):
            n = round_no * 10 + i
            data = {"entry_id": n, "title": f"条目{n}", "reason": "manual", "comment": ""}
            service.emit(session, EventType.flag_opened, f"flag.opened:{n}", data)
        session.commit()
        before = len(rx.received)
        target = before + rnd.randint(1, 8)  # kill while the target-th request is unanswered
        proc = popen_kbsvc(env, "notify", "run")
        deadline = time.monotonic() + 120
        while len(rx.received) < target and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert before < len(rx.received) < before + 10

        # Restarted at once: the in-flight row is still leased to the dead worker and waits.
        restarted = OutboxWorker(settings, engine, name=f"restarted-{round_no}")
        while restarted.run_once():
            pass
        session.expire_all()
        leased = [r for r in session.exec(select(OutboxDelivery)).all() if r.status == "pending"]
        assert len(leased) == 1 and leased[0].lease_until is not None
        # After the lease runs out it is sent again, with the same delivery key.
        restarted.run_once(utcnow() + timedelta(seconds=settings.notify.lease_s + 1))

        session.expire_all()
        rows = session.exec(select(OutboxDelivery)).all()
        assert {r.status for r in rows} == {DeliveryStatus.sent}
        ids = Counter(r["body"]["delivery_id"] for r in rx.received)
        assert set(ids) == {r.delivery_key for r in rows}  # nothing lost
        # One resend per kill: the request that was unanswered when the worker died.
        assert sorted(ids.values()) == [1] * (9 * (round_no + 1)) + [2] * (round_no + 1)
        assert ids[leased[0].delivery_key] == 2
