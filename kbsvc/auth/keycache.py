"""API keys verified from memory: the database is read once per key, not once per request.

A revocation or edit appends to `api_key_changes` (kbsvc.auth.service.key_changed). Every
process compares that sequence's head with the one it last saw at most every `check_every_s`
and forgets every cached key when it moved, so a key revoked anywhere (API, web UI, CLI on
another host) stops working on every worker within `check_every_s`; the process that revoked
it calls `invalidate_after_commit` and forgets at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.auth import service
from kbsvc.auth.models import Principal

CHECK_EVERY_S = 2.0
MAX_KEYS = 10_000


@dataclass
class _Cached:
    principal: Principal
    last_used: datetime | None


class KeyCache:
    """Key hash → principal, for one process (built in the app lifespan)."""

    def __init__(self, db_engine: Engine, *, check_every_s: float = CHECK_EVERY_S) -> None:
        self.db_engine = db_engine
        self.check_every_s = check_every_s
        self._keys: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self._seen = -1  # head of api_key_changes when last checked (-1: never)
        self._checked_at = float("-inf")
        # Bumped on every forget: a lookup that read the database before a forget must not
        # store what it read (it may predate the revocation that caused the forget).
        self._generation = 0

    def principal(self, key: str) -> Principal | None:
        """The key's principal, or None for an unknown or revoked key."""
        self._follow()
        digest = service.hash_key(key)
        hit = self._keys.get(digest) or self._load(key, digest)
        if hit is None:
            return None
        if service.needs_touch(hit.last_used):
            hit.last_used = service.touch_key(self.db_engine, hit.principal.id)
        return hit.principal

    def cached(self, key: str) -> Principal | None:
        """The key's principal when held and no check is due (never touches the database)."""
        if time.monotonic() - self._checked_at >= self.check_every_s:
            return None
        hit = self._keys.get(service.hash_key(key))
        return hit.principal if hit is not None and not service.needs_touch(hit.last_used) else None

    def invalidate(self) -> None:
        """Forget every key and look at the change sequence on the next call."""
        with self._lock:
            self._keys.clear()
            self._generation += 1
            self._checked_at = float("-inf")

    def invalidate_after_commit(self, session: Session) -> None:
        """Forget now, and again once `session` commits the change (until then another
        request could still read, and cache, the key's old row)."""
        self.invalidate()
        event.listen(session, "after_commit", lambda _s: self.invalidate(), once=True)

    def _load(self, key: str, digest: str) -> _Cached | None:
        generation = self._generation
        with Session(self.db_engine) as session:
            found = service.lookup_key(session, key)
        if found is None:
            return None  # unknown keys are not cached: a flood of them must not evict real ones
        hit = _Cached(*found)
        with self._lock:
            if generation == self._generation:
                if len(self._keys) >= MAX_KEYS:
                    self._keys.clear()
                self._keys[digest] = hit
        return hit

    def _follow(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self.check_every_s:
            return
        with Session(self.db_engine) as session:
            head = service.last_key_change(session)
        with self._lock:
            self._checked_at = now
            if head != self._seen:
                self._seen = head
                self._keys.clear()
                self._generation += 1
