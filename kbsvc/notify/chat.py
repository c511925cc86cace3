"""Chat robots and the generic webhook, each in its vendor's documented envelope and signature.

- 企业微信群机器人: POST {"msgtype": "markdown", "markdown": {"content"}} to …/webhook/send?key=;
  success is {"errcode": 0}.
- 钉钉自定义机器人: {"msgtype": "markdown", "markdown": {"title", "text"}}; 加签 mode appends
  `timestamp` (ms) and `sign` = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}")));
  success is {"errcode": 0}.
- 飞书自定义机器人: {"msg_type": "text", "content": {"text"}}; 签名校验 adds body fields
  `timestamp` (s) and `sign` = base64(HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b"")); success is
  {"code": 0} (older deployments answer {"StatusCode": 0}).
- generic webhook: our JSON; with a secret, `X-Kbsvc-Signature: sha256=<hex HMAC of the body>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from kbsvc.notify.models import NotifyChannel


class DeliveryError(Exception):
    """The receiver refused or could not be reached; the worker retries later."""


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return urllib.parse.quote_plus(base64.b64encode(mac.digest()))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    mac = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def _post(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> Any:
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=raw, method="POST")
    req.add_header("Content-Type", "application/json; charset=utf-8")
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (admin-set URL)
            text = resp.read(65536).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {urllib.parse.urlsplit(url).netloc}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"cannot reach {urllib.parse.urlsplit(url).netloc}: {exc}") from None
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


def _message(payload: dict[str, Any], base_url: str) -> tuple[str, str, str]:
    link = base_url.rstrip("/") + payload.get("path", "/")
    return payload["title"], payload["text"], link


def send_wecom(ch: NotifyChannel, payload: dict[str, Any], key: str, base: str, t: float) -> None:
    title, text, link = _message(payload, base)
    content = f"### {title}\n{text}\n[打开知识库]({link})"
    # WeCom rejects markdown over 4,096 bytes.
    content = content.encode()[:4000].decode(errors="ignore")
    reply = _post(ch.url, {"msgtype": "markdown", "markdown": {"content": content}}, {}, t)
    if reply.get("errcode") != 0:
        raise DeliveryError(f"企业微信 errcode {reply.get('errcode')}: {reply.get('errmsg')}")


def send_dingtalk(
    ch: NotifyChannel, payload: dict[str, Any], key: str, base: str, t: float
) -> None:
    title, text, link = _message(payload, base)
    url = ch.url
    if ch.secret:
        ts = int(time.time() * 1000)
        sep = "&" if "?" in url else "?"
        url = f"{url}{sep}timestamp={ts}&sign={dingtalk_sign(ch.secret, ts)}"
    body = {
        "msgtype": "markdown",
        "markdown": {"title": title, "text": f"### {title}\n\n{text}\n\n[打开知识库]({link})"},
    }
    reply = _post(url, body, {}, t)
    if reply.get("errcode") != 0:
        raise DeliveryError(f"钉钉 errcode {reply.get('errcode')}: {reply.get('errmsg')}")


def send_feishu(ch: NotifyChannel, payload: dict[str, Any], key: str, base: str, t: float) -> None:
    title, text, link = _message(payload, base)
    body: dict[str, Any] = {"msg_type": "text", "content": {"text": f"{title}\n{text}\n{link}"}}
    if ch.secret:
        ts = int(time.time())
        body.update(timestamp=str(ts), sign=feishu_sign(ch.secret, ts))
    reply = _post(ch.url, body, {}, t)
    if reply.get("code", reply.get("StatusCode")) != 0:
        raise DeliveryError(f"飞书 code {reply.get('code')}: {reply.get('msg')}")


def send_webhook(ch: NotifyChannel, payload: dict[str, Any], key: str, base: str, t: float) -> None:
    title, text, link = _message(payload, base)
    body = {
        "delivery_id": key,
        "event": payload.get("event", ""),
        "title": title,
        "text": text,
        "url": link,
        "data": payload.get("data", {}),
    }
    headers = {"X-Kbsvc-Delivery": key, "X-Kbsvc-Event": str(body["event"])}
    if ch.secret:
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        digest = hmac.new(ch.secret.encode(), raw, hashlib.sha256).hexdigest()
        headers["X-Kbsvc-Signature"] = f"sha256={digest}"
    _post(ch.url, body, headers, t)
