"""A full disk: recognise it in any error (file, SQLite, PostgreSQL) and watch free space."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from kbsvc.exceptions import DiskFull

MESSAGE = (
    "磁盘空间不足，本次修改没有保存；请清理数据目录所在磁盘后重试。"
    " / Disk full: nothing was saved; free space on the data disk and retry."
)
_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# SQLITE_FULL, PostgreSQL "could not extend file … No space left on device" (SQLSTATE 53100).
_TEXTS = ("database or disk is full", "no space left on device", "disk quota exceeded")
_SQLSTATES = {"53100", "53000"}


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc`, or anything it wraps, says the disk is full."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, DiskFull):
            return True
        if isinstance(e, OSError) and e.errno in _ERRNOS:
            return True
        if getattr(e, "sqlstate", None) in _SQLSTATES or getattr(e, "pgcode", None) in _SQLSTATES:
            return True
        if any(t in str(e).lower() for t in _TEXTS):
            return True
        # SQLAlchemy keeps the driver's exception in .orig; Python chains the rest.
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]
    return False


def disk_full(exc: BaseException) -> DiskFull:
    """The domain error for a write that failed on a full disk."""
    return DiskFull(MESSAGE, cause=type(exc).__name__)


def free_mb(path: Path) -> float:
    """Free space (MiB) on the file system holding `path` (or its nearest existing parent)."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free / 2**20


def readiness(path: Path, min_free_mb: int) -> str:
    """The /readyz probe: "ok", or how little space is left."""
    free = free_mb(path)
    if free < min_free_mb:
        return f"low: {free:.1f} MiB free in {path}, below {min_free_mb} MiB"
    return "ok"
