"""Widget keys for the demo helpdesk page: one per origin, created once per process."""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from kbsvc.auth import service
from kbsvc.auth.models import ApiKey, Role

DEMO_KEY_PREFIX = "demo-widget "


class DemoWidgetKeys:
    """Plaintext demo keys by origin; a process singleton (the app lifespan builds it)."""

    def __init__(self, db_engine: Engine) -> None:
        self.db_engine = db_engine
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()

    def key_for(self, origin: str) -> str:
        """The demo widget key bound to `origin`, created (in its own transaction) on first use."""
        with self._lock:
            if origin not in self._keys:
                self._keys[origin] = self._create(origin)
            return self._keys[origin]

    def _create(self, origin: str) -> str:
        name = DEMO_KEY_PREFIX + origin
        # Its own transaction: the plaintext is cached for the process, so the row must be
        # committed whatever becomes of the request that asked first.
        with Session(self.db_engine) as session:
            # Plaintexts are never stored, so keys left by an earlier process are unusable.
            stale = session.execute(
                select(ApiKey).where(col(ApiKey.name) == name, col(ApiKey.revoked).is_(False))
            ).scalars()
            for row in stale:
                row.revoked = True
                session.add(row)
            _row, plaintext = service.create_api_key(
                session, name=name, role=Role.widget, origins=[origin]
            )
            session.commit()
        return plaintext
