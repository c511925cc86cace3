"""Run the real `kbsvc` CLI in a subprocess against a test's database, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kbsvc.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def kbsvc_env(data_dir: Path, **changes: str | None) -> dict[str, str]:
    """This process's environment with KBSVC_DATA_DIR set and `changes` applied (None removes)."""
    env = {**os.environ, "KBSVC_DATA_DIR": str(data_dir)}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_kbsvc_with(
    env: Mapping[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m kbsvc ARGS` from the repository root under exactly `env`, run to the end."""
    return subprocess.run(
        [sys.executable, "-m", "kbsvc", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_kbsvc(
    settings: Settings, *args: str, timeout: float = 120, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m kbsvc ARGS` on `settings`' data directory and database (`env`: more
    variables, None removes one)."""
    url = settings.database_url
    return run_kbsvc_with(
        kbsvc_env(settings.data_dir, KBSVC_DATABASE_URL=url, **env), *args, timeout=timeout
    )


def run_kbsvc_sqlite(
    data_dir: Path, *args: str, timeout: float = 120, **env: str | None
) -> subprocess.CompletedProcess[str]:
    """`python -m kbsvc ARGS` on the SQLite file in `data_dir`: KBSVC_DATABASE_URL="" on purpose,
    so a server URL in the environment (or .env) is never used."""
    return run_kbsvc_with(kbsvc_env(data_dir, KBSVC_DATABASE_URL="", **env), *args, timeout=timeout)


def popen_kbsvc(env: Mapping[str, str], *args: str, **popen: Any) -> subprocess.Popen[Any]:
    """`python -m kbsvc ARGS` started from the repository root under `env`, left running (a
    server, or a command a test kills); `popen`: stdout, stderr, text … for subprocess.Popen."""
    return subprocess.Popen(
        [sys.executable, "-m", "kbsvc", *args], cwd=ROOT, env=dict(env), **popen
    )
