"""Which process writes the shared index: a lock one process holds while it lives."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Any, Protocol

from indexer.errors import IndexStoreError
from indexer.manifest import read_json_file, write_atomic

STATUS = "writer.json"


class WriterLock(Protocol):
    """Held by at most one process; released when it exits, however it exits."""

    def try_acquire(self) -> bool:
        """True when this process holds the lock (now or already)."""
        ...

    def release(self) -> None: ...


class FileWriterLock:
    """flock(2) on a file in the index folder: one writer per host (or per shared folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def write_status(index_dir: Path, **fields: Any) -> None:
    """The writer's heartbeat beside the index (what every worker's /readyz shows)."""
    status = {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time(), **fields}
    write_atomic(index_dir / STATUS, json.dumps(status).encode("utf-8"))


def read_status(index_dir: Path) -> dict[str, Any]:
    """The last heartbeat, with its age in seconds ({} when no writer has reported)."""
    try:
        status = read_json_file(index_dir / STATUS)
    except IndexStoreError:
        return {}
    status["age_s"] = round(time.time() - float(status.get("at", 0)), 1)
    return status
