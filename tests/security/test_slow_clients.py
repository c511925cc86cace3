"""Threat: clients that send slowly hold connections and workers (slowloris): 1,500 sockets
trickling headers were held for 60 s. Against a real `kbsvc serve`: headers must arrive within
limits.header_timeout_s (408, closed), a body within limits.body_timeout_s (408 JSON, closed),
and the server keeps answering everyone else meanwhile.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kbsvc.config import Settings
from tests.reliability import serve
from tests.web.conftest import free_port

HEADER_TIMEOUT_S, BODY_TIMEOUT_S = 1, 2
GIVE_UP_S = 15  # far past both deadlines: a connection still open then was never cut off

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    proc = serve.start(
        Settings(data_dir=tmp_path, database_url="", _env_file=None),  # type: ignore[call-arg]
        port,
        KBSVC_LIMITS__HEADER_TIMEOUT_S=str(HEADER_TIMEOUT_S),
        KBSVC_LIMITS__BODY_TIMEOUT_S=str(BODY_TIMEOUT_S),
    )
    try:
        yield "127.0.0.1", port
    finally:
        serve.stop(proc)


def _trickle(sock: socket.socket, data: bytes, pause: float) -> bytes:
    """Send `data` a byte at a time; returns what the server answered once it hung up."""
    sock.settimeout(pause)
    started = time.monotonic()
    for i in range(len(data)):
        if time.monotonic() - started > GIVE_UP_S:
            break
        try:
            sock.sendall(data[i : i + 1])
        except OSError:  # reset: the server closed the socket
            break
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        return answer + _rest(sock)
    return b""


def _rest(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    out = b""
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass  # closing with our unread bytes still queued makes the kernel send RST after the 408
    return out  # the server closed the connection


def _livez(host: str, port: int) -> int:
    return httpx.get(f"http://{host}:{port}/livez", timeout=5).status_code


def test_slow_headers_and_bodies_are_cut_off_and_others_are_served(
    server: tuple[str, int],
) -> None:
    host, port = server
    # Slow headers: 20 sockets sending the request line, then a header byte every 0.3 s.
    head = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"
    socks = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    for s in socks:
        s.sendall(head[:20])
    assert _livez(host, port) == 200  # another client is answered during the attack
    answers = [_trickle(s, head[20:], 0.3) for s in socks]
    for s in socks:
        s.close()
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers), answers[:2]
    # A connection that never sends a byte is closed too.
    with socket.create_connection((host, port), timeout=5) as idle:
        assert _rest(idle) == b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n" + (
            b"Content-Length: 0\r\n\r\n"
        )
    # Slow body: headers at once, then a byte of a 10 kB JSON body every 0.2 s.
    body = b'{"text": "' + b"a" * 10_000 + b'"}'
    post = (
        b"POST /api/v1/suggest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=5) as slow:
        slow.sendall(post)
        assert _livez(host, port) == 200
        answer = _trickle(slow, body, 0.2)
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout", answer[:200]
    assert b"connection: close" in rest.lower() and "请求正文".encode() in rest
    assert _livez(host, port) == 200
