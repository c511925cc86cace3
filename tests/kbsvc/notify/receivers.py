"""Loopback stand-ins for the vendors' robot endpoints that check payload shape and signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET = "SEC0123456789abcdef0123456789abcdef"


def _b64_hmac(key: bytes, msg: bytes) -> str:
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode()


def check_wecom(q: dict[str, str], h: dict[str, str], raw: bytes, body: Any) -> str:
    md = body.get("markdown", {})
    if q.get("key") != "wecom-key" or body.get("msgtype") != "markdown":
        return "bad key or msgtype"
    if not isinstance(md.get("content"), str) or len(md["content"].encode()) > 4096:
        return "markdown.content missing or over 4096 bytes"
    return ""


def check_dingtalk(q: dict[str, str], h: dict[str, str], raw: bytes, body: Any) -> str:
    ts = q.get("timestamp", "")
    if q.get("access_token") != "ding-token" or not ts.isdigit():
        return "bad access_token or timestamp"
    if abs(time.time() * 1000 - int(ts)) > 3600_000:
        return "timestamp older than one hour"
    # parse_qs has already url-decoded `sign`, as DingTalk's server does.
    if q.get("sign") != _b64_hmac(SECRET.encode(), f"{ts}\n{SECRET}".encode()):
        return "sign not match"
    md = body.get("markdown", {})
    if body.get("msgtype") != "markdown" or not md.get("title") or not md.get("text"):
        return "bad markdown message"
    return ""


def check_feishu(q: dict[str, str], h: dict[str, str], raw: bytes, body: Any) -> str:
    ts = body.get("timestamp", "")
    if not (isinstance(ts, str) and ts.isdigit()) or abs(time.time() - int(ts)) > 3600:
        return "timestamp is not within one hour"
    if body.get("sign") != _b64_hmac(f"{ts}\n{SECRET}".encode(), b""):
        return "sign match fail"
    if body.get("msg_type") != "text" or not body.get("content", {}).get("text"):
        return "bad text message"
    return ""


def check_webhook(q: dict[str, str], h: dict[str, str], raw: bytes, body: Any) -> str:
    want = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    if h.get("x-kbsvc-signature") != want:
        return "bad signature"
    if h.get("x-kbsvc-delivery") != body.get("delivery_id") or not body.get("title"):
        return "bad delivery id or title"
    return ""


VENDORS = {
    "wecom": (check_wecom, {"errcode": 0, "errmsg": "ok"}, {"errcode": 93000, "errmsg": "bad"}),
    "dingtalk": (
        check_dingtalk,
        {"errcode": 0, "errmsg": "ok"},
        {"errcode": 310000, "errmsg": "sign not match"},
    ),
    "feishu": (
        check_feishu,
        {"code": 0, "msg": "success"},
        {"code": 19021, "msg": "sign match fail"},
    ),
    "webhook": (check_webhook, {}, None),
}


class Receiver:
    """One vendor endpoint on 127.0.0.1; records what arrived and any payload problem."""

    def __init__(self, vendor: str, *, fail_first: int = 0, delay_s: float = 0.0) -> None:
        self.vendor, self.fail_first, self.delay_s = vendor, fail_first, delay_s
        self.received: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer._handle(self, raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        path = {
            "wecom": "/cgi-bin/webhook/send?key=wecom-key",
            "dingtalk": "/robot/send?access_token=ding-token",
            "feishu": "/open-apis/bot/v2/hook/feishu-hook",
            "webhook": "/hooks/kbsvc",
        }[vendor]
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"

    def _handle(self, req: BaseHTTPRequestHandler, raw: bytes) -> None:
        check, ok, bad = VENDORS[self.vendor]
        q = {k: v[0] for k, v in parse_qs(urlsplit(req.path).query).items()}
        headers = {k.lower(): v for k, v in req.headers.items()}
        try:
            body = json.loads(raw.decode("utf-8"))
            problem = check(q, headers, raw, body)
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
            body, problem = None, f"not JSON: {exc}"
        with self.lock:
            failing = self.fail_first > 0
            self.fail_first -= 1
            if not problem and not failing:
                self.received.append({"query": q, "headers": headers, "body": body})
            elif problem:
                self.problems.append(problem)
        time.sleep(self.delay_s)
        status = 503 if failing else (400 if problem and bad is None else 200)
        reply = bad if problem and bad is not None else ok
        data = json.dumps(reply).encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/json")
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        req.wfile.write(data)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
