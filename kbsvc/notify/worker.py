"""The delivery worker: claim due rows under a lease, send, record; retries back off exponentially.

Crash safety: a row is claimed by a conditional UPDATE (only one process wins it) that sets
`lease_until`; a worker that dies mid-send leaves the row pending, and it is sent again once the
lease runs out. So delivery is at-least-once; the stable `delivery_key` (webhook header
`X-Kbsvc-Delivery`, mail Message-ID) lets a receiver drop the rare resend.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kbsvc.config import Settings
from kbsvc.db import rowcount
from kbsvc.notify import chat, mail, schedule
from kbsvc.notify.chat import DeliveryError
from kbsvc.notify.models import ChannelKind, DeliveryStatus, NotifyChannel, OutboxDelivery
from kbsvc.timeutil import utcnow

log = logging.getLogger("kbsvc.notify")

SENDERS: dict[ChannelKind, Any] = {
    ChannelKind.wecom: chat.send_wecom,
    ChannelKind.dingtalk: chat.send_dingtalk,
    ChannelKind.feishu: chat.send_feishu,
    ChannelKind.webhook: chat.send_webhook,
}


def backoff(attempts: int, base: float, cap: float) -> timedelta:
    """Delay before attempt `attempts + 1`: base · 2^(attempts−1), capped."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxWorker:
    """Sends pending deliveries; several may run (processes, hosts) on one database."""

    def __init__(self, settings: Settings, db_engine: Engine, *, name: str = "") -> None:
        self.settings, self.db_engine = settings, db_engine
        self.cfg = settings.notify
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def claim(self, now: datetime, batch: int = 20) -> list[int]:
        """Ids this worker now holds a lease on."""
        due = or_(col(OutboxDelivery.lease_until).is_(None), col(OutboxDelivery.lease_until) < now)
        claimed = []
        with Session(self.db_engine) as session:
            ids = session.exec(
                select(col(OutboxDelivery.id))
                .where(
                    col(OutboxDelivery.status) == DeliveryStatus.pending,
                    col(OutboxDelivery.next_attempt_at) <= now,
                    due,
                )
                .order_by(col(OutboxDelivery.id))
                .limit(batch)
            ).all()
            for row_id in ids:
                # Compare-and-set: of two workers that saw the row, exactly one updates it.
                won = session.execute(
                    update(OutboxDelivery)
                    .where(
                        col(OutboxDelivery.id) == row_id,
                        col(OutboxDelivery.status) == "pending",
                        due,
                    )
                    .values(
                        lease_until=now + timedelta(seconds=self.cfg.lease_s),
                        claimed_by=self.name,
                        attempts=col(OutboxDelivery.attempts) + 1,
                    )
                )
                if rowcount(won) == 1:
                    claimed.append(row_id)
            session.commit()
        return [i for i in claimed if i is not None]

    def _send(self, row: OutboxDelivery, channel: NotifyChannel) -> None:
        base, t = self.settings.public_base_url, self.cfg.http_timeout_s
        if not channel.enabled:
            raise DeliveryError(f"channel {channel.name!r} is disabled")
        if channel.kind == ChannelKind.email:
            mail.send_mail(channel, row.payload, row.delivery_key, base, self.cfg.smtp)
        else:
            SENDERS[ChannelKind(channel.kind)](channel, row.payload, row.delivery_key, base, t)

    def deliver(self, row_id: int, now: datetime | None = None) -> DeliveryStatus:
        """Send one claimed row and record the outcome."""
        with Session(self.db_engine) as session:
            row = session.get(OutboxDelivery, row_id)
            assert row is not None
            channel = session.get(NotifyChannel, row.channel_id)
            assert channel is not None
            session.expunge_all()
        error = ""
        try:
            self._send(row, channel)
        except DeliveryError as exc:
            error = str(exc)[:1000]
        except Exception as exc:  # a bug in one sender must not stop the others
            log.exception("notification %s failed", row.delivery_key)
            error = f"{type(exc).__name__}: {exc}"[:1000]
        # Backoff counts from the pass's clock, so a caller-supplied `now` holds throughout.
        now = now or utcnow()
        if not error:
            values: dict[str, Any] = {
                "status": DeliveryStatus.sent,
                "sent_at": now,
                "last_error": "",
            }
        elif row.attempts >= self.cfg.max_attempts:
            values = {"status": DeliveryStatus.dead, "last_error": error}
        else:
            wait = backoff(row.attempts, self.cfg.backoff_base_s, self.cfg.backoff_max_s)
            values = {"next_attempt_at": now + wait, "last_error": error}
        with Session(self.db_engine) as session:
            session.execute(
                update(OutboxDelivery)
                .where(
                    col(OutboxDelivery.id) == row_id, col(OutboxDelivery.claimed_by) == self.name
                )
                .values(lease_until=None, **values)
            )
            session.commit()
        if error:
            log.warning("notification %s: %s", row.delivery_key, error)
        return DeliveryStatus(values.get("status", DeliveryStatus.pending))

    def run_once(self, now: datetime | None = None, batch: int = 20) -> int:
        """Enqueue scheduled notices that are due, then send one batch; returns rows handled."""
        now = now or utcnow()
        schedule.enqueue_due(self.db_engine, self.settings, now)
        handled = 0
        # One row per claim: a crash then strands only the row in flight, not a whole batch.
        while handled < batch and (ids := self.claim(now, batch=1)):
            self.deliver(ids[0], now)
            handled += 1
        return handled

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database may be briefly unavailable; try again later
                log.exception("notification worker pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.cfg.poll_interval_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="kbsvc-notify", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
