"""Receivers per vendor, a real SMTP server (aiosmtpd), and helpers to add channels."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session

from kbsvc.notify.models import ChannelKind, NotifyChannel
from tests.kbsvc.notify.receivers import SECRET, Receiver


@pytest.fixture
def receiver() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(vendor: str, **kw: Any) -> Receiver:
        made.append(Receiver(vendor, **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def add_channel(
    session: Session, name: str, kind: str, events: list[str], **kw: Any
) -> NotifyChannel:
    row = NotifyChannel(name=name, kind=ChannelKind(kind), events=events, **kw)
    session.add(row)
    session.commit()
    return row


def vendor_channel(session: Session, rx: Receiver, events: list[str]) -> NotifyChannel:
    secret = "" if rx.vendor == "wecom" else SECRET
    return add_channel(session, rx.vendor, rx.vendor, events, url=rx.url, secret=secret)


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp_server(tls_cert: tuple[Path, Path]) -> Iterator[Any]:
    """aiosmtpd on loopback; `mode` is starttls (required) or ssl (implicit TLS)."""
    import ssl

    running: list[Controller] = []

    def start(mode: str) -> tuple[_Inbox, int]:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(*tls_cert)
        inbox = _Inbox()
        kw: dict[str, Any] = (
            {"ssl_context": ctx}
            if mode == "ssl"
            else {"tls_context": ctx, "require_starttls": True}
        )
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ctl = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
        ctl.start()
        running.append(ctl)
        return inbox, port

    yield start
    for ctl in running:
        ctl.stop()
