"""Each channel against a local receiver that checks the vendor's payload shape and signature."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.config import Settings
from kbsvc.notify import chat, service
from kbsvc.notify.models import DeliveryStatus, EventType, OutboxDelivery
from kbsvc.notify.worker import OutboxWorker
from tests.kbsvc.notify.conftest import add_channel, vendor_channel

DATA = {"entry_id": 7, "title": "PACS影像调阅缓慢", "system": "PACS", "actor": "user:李工"}


def _emit(
    session: Session, key: str = "entry.submitted:7:v2", audience: list[str] | None = None
) -> None:
    service.emit(session, EventType.entry_submitted, key, DATA, audience)
    session.commit()


def _statuses(session: Session) -> list[str]:
    session.expire_all()
    return [r.status for r in session.exec(select(OutboxDelivery)).all()]


@pytest.mark.parametrize("vendor", ["wecom", "dingtalk", "feishu", "webhook"])
def test_chat_channel_delivers_valid_signed_payload(
    vendor: str, receiver: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    rx = receiver(vendor)
    vendor_channel(session, rx, ["entry.submitted"])
    _emit(session)
    assert OutboxWorker(settings, engine).run_once() == 1
    assert rx.problems == []
    assert len(rx.received) == 1
    assert "PACS影像调阅缓慢" in str(rx.received[0]["body"])
    assert _statuses(session) == ["sent"]


def test_wrong_secret_is_refused_and_retried_later(
    receiver: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    rx = receiver("dingtalk")
    add_channel(session, "ding", "dingtalk", ["entry.submitted"], url=rx.url, secret="SECwrong")
    _emit(session)
    OutboxWorker(settings, engine).run_once()
    assert rx.problems == ["sign not match"]
    row = session.exec(select(OutboxDelivery)).one()
    assert row.status == DeliveryStatus.pending and "310000" in row.last_error
    assert row.next_attempt_at > row.created_at


def test_signatures_match_vendor_examples() -> None:
    # Recomputed by hand from the vendors' documented recipes (see kbsvc/notify/chat.py).
    import base64
    import hashlib
    import hmac
    import urllib.parse

    ts, secret = 1700000000000, "SECabc"
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    assert chat.dingtalk_sign(secret, ts) == urllib.parse.quote_plus(base64.b64encode(mac))
    mac = hmac.new(f"1700000000\n{secret}".encode(), b"", hashlib.sha256).digest()
    assert chat.feishu_sign(secret, 1700000000) == base64.b64encode(mac).decode()


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_mail_with_chinese_subject_over_tls(
    mode: str, smtp_server: Any, tls_cert: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    inbox, port = smtp_server(mode)
    settings.notify.smtp.host, settings.notify.smtp.port = "127.0.0.1", port
    settings.notify.smtp.security = mode  # type: ignore[assignment]
    settings.notify.smtp.ca_file = str(tls_cert[0])
    settings.notify.smtp.sender = "kb@hospital.cn"
    add_channel(
        session,
        "mail",
        "email",
        ["entry.submitted"],
        mail_to=["director@hospital.cn"],
        audience=True,
    )
    _emit(session, audience=["reviewer@hospital.cn"])
    OutboxWorker(settings, engine).run_once()
    assert _statuses(session) == ["sent"]
    (msg,) = inbox.messages
    assert msg["Subject"] == "【知识库】待审核：PACS影像调阅缓慢"
    assert sorted(inbox.envelopes[0][1]) == ["director@hospital.cn", "reviewer@hospital.cn"]
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert "提交了知识条目《PACS影像调阅缓慢》" in body and "/entries/7" in body
    assert msg["Message-ID"].startswith("<entry.submitted-7-v2-")


def test_mail_refused_without_tls_is_an_error_not_plaintext(
    smtp_server: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    inbox, port = smtp_server("starttls")
    settings.notify.smtp.host, settings.notify.smtp.port = "127.0.0.1", port
    # The server's certificate is not trusted without the hospital CA: refuse, do not downgrade.
    add_channel(session, "mail", "email", ["entry.submitted"], mail_to=["a@hospital.cn"])
    _emit(session)
    OutboxWorker(settings, engine).run_once()
    row = session.exec(select(OutboxDelivery)).one()
    assert row.status == "pending" and "SMTP" in row.last_error and inbox.messages == []
