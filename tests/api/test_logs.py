"""Every logger, ours and the server's, writes JSON lines through the one configured handler."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from api.logs import configure_logging
from tests.cli import kbsvc_env, popen_kbsvc


def _json_lines(text: str) -> list[dict[str, object]]:
    lines = [line for line in text.splitlines() if line.strip()]
    bad = []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            bad.append(line)
    assert bad == [], f"log lines outside the JSON format: {bad}"
    return out


def test_all_our_packages_and_the_servers_log_json(capsys: pytest.CaptureFixture[str]) -> None:
    import jieba  # noqa: F401 - brings its own console handler, which must go

    configure_logging("INFO", "json")
    configure_logging("INFO", "json")  # idempotent: still one line per record
    names = ["kbsvc.x", "api.x", "indexer.engine", "embeddings.sbert", "uvicorn.error"]
    for name in names:
        logging.getLogger(name).warning("from %s", name)
    logging.getLogger("indexer.engine").info("building")
    logging.getLogger("jieba").warning("dictionary missing")
    logging.getLogger("some.library").warning("deprecated")
    logging.getLogger("some.library").info("chatter")  # other libraries: warnings only
    records = _json_lines(capsys.readouterr().err)
    assert [r["logger"] for r in records] == [
        *names,
        "indexer.engine",
        "jieba",
        "some.library",
    ]
    assert all(r["level"] in {"INFO", "WARNING"} and r["msg"] for r in records)


def test_a_served_process_writes_only_json_to_stderr(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = kbsvc_env(tmp_path, HF_HUB_OFFLINE="1", KBSVC_DATABASE_URL=None)
    log = tmp_path / "server.log"
    with log.open("w") as err:
        proc = popen_kbsvc(env, "serve", "--port", str(port), stdout=subprocess.DEVNULL, stderr=err)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/livez", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
                assert proc.poll() is None, log.read_text()
            assert httpx.get(f"{base}/api/v1/nowhere", timeout=5).status_code == 404
            with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                raw.sendall(b"NOT HTTP\r\n\r\n")  # uvicorn warns: invalid HTTP request
                raw.recv(1024)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    records = _json_lines(log.read_text())
    loggers = {r["logger"] for r in records}
    assert "kbsvc.access" in loggers and "uvicorn.error" in loggers
