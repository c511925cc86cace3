"""Worker processes for CPU-bound batch work: a rebuild's analysis, an import's batches.

jieba is pure Python, so threads would take turns on one core; processes use them all.
Workers are forked, so they inherit dictionaries the caller already loaded (~2 s each to
load again), and they exit on their own when the process that forked them dies: a killed
import or reindex leaves no workers waiting forever for work that will never come.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _start(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    def orphaned() -> None:
        # A killed parent never sends the shutdown message: the worker would wait forever.
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def fork_pool(
    workers: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> ProcessPoolExecutor:
    """`workers` processes forked from this one. They run only the given function on plain
    values and never touch the locks, connections or threads the forking process holds (a
    progress bar's refresh thread, a database pool), which is what makes forking safe here."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start,
        initargs=(os.getpid(), initializer, initargs),
    )


def ordered(
    pool: ProcessPoolExecutor, fn: Callable[[T], R], items: Iterable[T], ahead: int
) -> Iterator[R]:
    """fn(item) for each item, in order, with at most `ahead` items in flight (results are
    not all held at once, and the caller works on one while the workers run the next)."""
    todo = deque(items)
    running: deque[Future[R]] = deque()
    while todo or running:
        while todo and len(running) < max(1, ahead):
            running.append(pool.submit(fn, todo.popleft()))
        yield running.popleft().result()
