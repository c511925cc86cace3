"""What `kbsvc serve` runs: uvicorn (uvloop, httptools) with a header deadline on the protocol.

`kbsvc serve` migrates the database, then execs `python -m api.server HOST PORT WORKERS`, so
the long-lived supervisor process holds uvicorn alone, not the CLI and the migrations.

uvicorn times out idle keep-alive connections but not a client that trickles its request line
and headers (slowloris: 1,500 such sockets were held for 60 s). Each request's headers must
arrive within `limits.header_timeout_s` of its first byte (of the connection, for the first
request); a late one gets 408 and the socket is closed. The body has its own deadline,
`limits.body_timeout_s`, enforced in api.middleware.limits (it can answer JSON).
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from kbsvc.config import get_settings

_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    """Closes connections whose request headers do not arrive in time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout_s = get_settings().limits.header_timeout_s
        self._header_deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self.header_timeout_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _too_slow(self) -> None:
        self._header_deadline = None
        if not self.transport.is_closing():
            self.transport.write(_TIMEOUT)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()  # a connection that never sends a byte is cut off too

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def main(argv: list[str]) -> None:
    """`HOST PORT WORKERS`: serve api.main:app with every worker mapping the shared index."""
    host, port, workers = argv[0], int(argv[1]), int(argv[2])
    # Our own JSON access log replaces uvicorn's, which would print query strings (ticket
    # text); log_config=None: the app configures every logger (uvicorn's too) as JSON.
    uvicorn.run(
        "api.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        # Slow clients: headers must arrive in limits.header_timeout_s (above); idle
        # keep-alive connections close after 5 s (uvicorn's default, stated here).
        http="api.server:DeadlineHttpToolsProtocol",
        loop="uvloop",  # stated, not "auto": the asyncio loop costs more CPU per request
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
