"""The engine's background work: follow the change sequence, publish or follow generations."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from indexer import election, store

if TYPE_CHECKING:
    from indexer.engine import SearchEngine

log = logging.getLogger(__name__)
HEARTBEAT_S = 5.0  # how often the writer refreshes its status file


class Follower:
    """One pass every `interval` seconds: take the writer lock when it is free (a dead
    writer's lock is free), map a generation another process published, apply changes since
    into the in-memory delta, and (the writer) publish once the delta is `publish_every`
    seconds old or large enough to slow queries."""

    def __init__(self, engine: SearchEngine, interval: float, publish_every: float) -> None:
        self.engine = engine
        self.interval, self.publish_every = interval, publish_every
        self._stop = threading.Event()
        self._beat = 0.0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        loops = [(self._loop, "kbsvc-index-sync")]
        if self.engine.slow_dense:
            loops.append((self._backfill_loop, "kbsvc-dense-backfill"))
        for target, name in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - keep following; the next pass retries
                log.exception("search index sync failed")
            self._stop.wait(self.interval)

    def tick(self) -> None:
        """One pass of the loop (tests drive it directly)."""
        eng = self.engine
        if eng.role == "reader" and eng.lock is not None and eng.lock.try_acquire():
            eng.role = "writer"
            log.warning("this process (generation %s) is now the index writer", eng.generation)
            self._beat = 0.0
        published = store.current_generation(eng.index_dir)
        if published and published != eng.generation:
            eng.follow()
        if not eng.ready:
            if not eng.generation:
                if eng.role == "reader":
                    return  # the writer is still building the first generation
                eng.rebuild()
            eng.ready = True
        eng.sync()
        if eng.role == "reader":
            return
        due = eng.dirty_for() > self.publish_every or eng.retriever.lexical.needs_compaction()
        if eng.dirty_for() >= 0 and due:
            eng.save()
            self._beat = 0.0
        if eng.role == "writer" and time.monotonic() - self._beat > HEARTBEAT_S:
            election.write_status(eng.index_dir, generation=eng.generation, last_seq=eng.last_seq)
            self._beat = time.monotonic()

    def _backfill_loop(self) -> None:
        eng = self.engine
        while not self._stop.is_set():
            try:
                if eng.role != "reader" and eng.backfill_step():
                    continue
                if eng.role != "reader" and eng.refit_due():
                    eng.recalibrate()
            except Exception:  # noqa: BLE001 - keep going; the queue is still there
                log.exception("background embedding failed")
            self._stop.wait(1.0)
