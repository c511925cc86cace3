"""SMTP delivery (STARTTLS, implicit TLS or plain relay) with Chinese subject and body."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from kbsvc.config import SmtpSettings
from kbsvc.notify.chat import DeliveryError
from kbsvc.notify.models import NotifyChannel


def build(smtp: SmtpSettings, payload: dict[str, Any], key: str, base_url: str) -> EmailMessage:
    """The message; its Message-ID is derived from the delivery key, so a resend is recognisable."""
    msg = EmailMessage()  # default policy: RFC 2047-encoded UTF-8 subject, UTF-8 body
    msg["Subject"] = f"【知识库】{payload['title']}"
    msg["From"] = smtp.sender
    msg["To"] = ", ".join(payload["to"])
    msg["Date"] = formatdate(localtime=True)
    domain = smtp.sender.rpartition("@")[2] or "kbsvc.local"
    safe = "".join(c if c.isalnum() or c in ".-" else "-" for c in key)
    msg["Message-ID"] = f"<{safe}@{domain}>"
    link = base_url.rstrip("/") + payload.get("path", "/")
    msg.set_content(f"{payload['text']}\n\n打开知识库：{link}\n\n（本邮件由知识库自动发送）")
    return msg


def send_mail(
    ch: NotifyChannel, payload: dict[str, Any], key: str, base: str, smtp: SmtpSettings
) -> None:
    if not smtp.host:
        raise DeliveryError("no SMTP server configured (KBSVC_NOTIFY__SMTP__HOST)")
    msg = build(smtp, payload, key, base)
    ctx = ssl.create_default_context(cafile=smtp.ca_file or None)
    try:
        if smtp.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=smtp.timeout_s, context=ctx
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ctx)
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
