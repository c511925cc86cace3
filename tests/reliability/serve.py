"""Start `kbsvc serve` as an operator would (default workers) on a loopback port."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx

from kbsvc.config import KEY_ROLES, Settings
from tests.cli import popen_kbsvc


def env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `kbsvc serve` under test: its data, no downloads, limits lifted."""
    return {
        **os.environ,
        "KBSVC_DATA_DIR": str(settings.data_dir),
        "KBSVC_DATABASE_URL": settings.database_url,
        "HF_HUB_OFFLINE": "1",
        # Load and crash tests, not rate-limit tests (tests/api/test_limits.py covers those).
        "KBSVC_RATE_LIMIT__PER_MINUTE": "1000000",
        "KBSVC_RATE_LIMIT__BURST": "100000",
        "KBSVC_RATE_LIMIT__KEYS": json.dumps(
            {r: {"per_minute": 1_000_000, "burst": 100_000} for r in KEY_ROLES}
        ),
        **extra,
    }


def start(
    settings: Settings, port: int, *, ready: bool = True, **extra: str
) -> subprocess.Popen[bytes]:
    """A `kbsvc serve` process on 127.0.0.1:port (`extra`: more environment); waits for
    /readyz unless `ready=False`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log = settings.data_dir / "server.log"
    args = ("serve", "--host", "127.0.0.1", "--port", str(port))
    proc = popen_kbsvc(
        env(settings, **{"KBSVC_LOG_LEVEL": "WARNING", **extra}),
        *args,
        stdout=subprocess.DEVNULL,
        stderr=log.open("a"),
        start_new_session=True,  # SIGKILL of the group takes every worker down at once
    )
    if ready:
        wait_ready(f"http://127.0.0.1:{port}", proc, log)
    return proc


def wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"kbsvc serve exited: {log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise RuntimeError("kbsvc serve did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
