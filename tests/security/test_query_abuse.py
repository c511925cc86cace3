"""Threat: query syntax, odd characters and sheer size in search inputs turn into server errors.

Every payload on every surface must be answered with results or a 4xx JSON message, never a 5xx.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_entry

PAYLOADS = [
    "' OR 1=1 --",
    '"; DROP TABLE entries; --',
    "%",
    "_",
    "*",
    "%%%_%%%",
    "\\",
    "打印机' UNION SELECT password FROM users --",
    " OR ".join(f"词{i}" for i in range(5000)),
    "NEAR(打印 机)",
    "title:打印 AND -系统",
    "(((((((((((",
    "打印\x00机",
    "\x00",
    "打印\u202e机",
    "\ufeff打印",
    "😀" * 1000,
    "打" * 100_000,
    "a" * 100_000,
    "　" * 50,
]
# Sent as raw JSON: a lone surrogate is valid JSON text but not valid UTF-8 once decoded.
RAW_JSON = ['"\\ud800打印"', '"打印\\udfff"', '"\\u0000"']
GET_SURFACES = [
    ("/api/v1/search", "q"),
    ("/api/v1/tickets", "q"),
    ("/api/v1/entries", "tag"),
    ("/api/v1/entries", "system"),
    ("/api/v1/tags", "q"),
]


def test_query_abuse_never_500(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    make_entry(session, title="打印机脱机无法打印")
    tried, failures = 0, []
    for payload in PAYLOADS:
        # Past ~64k an URL is refused by the HTTP client itself; long text goes by POST.
        for path, param in GET_SURFACES if len(quote(payload)) < 60_000 else []:
            r = client.get(f"{path}?{param}={quote(payload)}", headers=editor_headers)
            tried += 1
            if r.status_code >= 500 or "application/json" not in r.headers["content-type"]:
                failures.append((path, param, payload[:30], r.status_code))
        r = client.post("/api/v1/suggest", json={"text": payload}, headers=editor_headers)
        tried += 1
        if r.status_code >= 500:
            failures.append(("suggest", "text", payload[:30], r.status_code))
    for raw in RAW_JSON:
        for body in (f'{{"text": {raw}}}', f'{{"title": {raw}, "text": "打印"}}'):
            r = client.post(
                "/api/v1/suggest",
                content=body.encode(),
                headers={**editor_headers, "Content-Type": "application/json"},
            )
            tried += 1
            if r.status_code >= 500:
                failures.append(("suggest raw", body[:30], r.status_code))
        r = client.get("/api/v1/search?q=" + quote(json.loads(raw), errors="surrogatepass"))
        tried += 1
        if r.status_code >= 500:
            failures.append(("search raw", raw, r.status_code))
    assert tried >= 100 and not failures, failures
