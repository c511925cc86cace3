"""Timing and memory helpers shared by the embedding/vector benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Latencies(np.ndarray):
    """Per-call wall times in ms, carrying the per-call CPU times alongside (`.cpu`)."""

    cpu: np.ndarray


def latencies_ms(fn: Callable[[int], object], n: int, warmup: int = 5) -> Latencies:
    """Per-call wall (and CPU) times in ms of fn(i) for i in range(n)."""
    for i in range(warmup):
        fn(i)
    wall, cpu = np.empty(n), np.empty(n)
    for i in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn(i)
        wall[i] = (time.perf_counter() - t) * 1000
        cpu[i] = (time.process_time() - c) * 1000
    out = wall.view(Latencies)
    out.cpu = cpu
    return out


def pct(ms: np.ndarray) -> str:
    """p50/p99 wall; CPU p50 too (what an idle core would show on a shared host)."""
    text = f"p50 {np.percentile(ms, 50):7.2f} ms  p99 {np.percentile(ms, 99):7.2f} ms"
    cpu = getattr(ms, "cpu", None)
    if cpu is not None:
        text += f"  CPU p50 {np.percentile(cpu, 50):6.2f} ms"
    return text


def timed(label: str, fn: Callable[[], T]) -> tuple[T, float]:
    """Run fn once; print wall and CPU seconds (CPU is steadier on a shared host)."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, cpu = time.perf_counter() - t, time.process_time() - c
    print(f"{label:<46} {elapsed:8.2f} s wall {cpu:8.2f} s CPU")
    return result, elapsed


def host_line() -> str:
    """Cores and load average, so figures from a busy host can be read as such."""
    import os

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"cores: {len(os.sched_getaffinity(0))}  load average: {load}"
