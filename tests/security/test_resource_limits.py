"""Threat: one request makes the server hold or walk something huge: an oversized or deeply
nested JSON body, a page size or offset in the billions, thousands of tags on one object.
Each is refused early with 413/422 and a JSON message; the service keeps answering."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import Session

from api.middleware.bodyscan import MAX_DEPTH
from tests.api.test_route_guards import _operations, _url
from tests.factories import make_entry

JSON = {"Content-Type": "application/json"}
PAGING = ("k", "limit", "offset", "page_size", "per_page", "days", "top")


def _nested(depth: int) -> bytes:
    return '{"text": "打印", "title": '.encode() + b"[" * depth + b"]" * depth + b"}"


def test_deep_and_oversized_json_is_refused_early(
    client: TestClient, editor_headers: dict[str, str]
) -> None:
    """Regression: 1,000 levels answered a vague 400 "error parsing the body"; the parser
    recursed first. Now the nesting is counted as the body streams in (no recursion)."""
    headers = {**editor_headers, **JSON}
    tried = 0
    for url in ("/api/v1/suggest", "/api/v1/entries", "/api/v1/tickets", "/api/v1/handbooks"):
        for depth in (MAX_DEPTH + 1, 1000, 100_000, 500_000):
            r = client.post(url, content=_nested(depth), headers=headers)
            tried += 1
            assert r.status_code == 422, (url, depth, r.status_code)
            assert r.json()["details"]["reason"] == "too_deep" and "嵌套" in r.json()["message"]
        # Objects nest the same way as lists.
        r = client.post(url, content=b'{"a":' * 5000 + b"1" + b"}" * 5000, headers=headers)
        assert r.status_code == 422 and r.json()["details"]["reason"] == "too_deep"
        big = json.dumps({"text": "打印机卡纸" * 500_000}, ensure_ascii=False).encode()
        r = client.post(url, content=big, headers=headers)
        tried += 2
        assert r.status_code == 413 and r.json()["code"] == "too_large"
    # Brackets inside strings are text, and ordinary nesting passes.
    ok = {"text": "[" * 5000 + "{" * 5000, "title": "打印机"}
    assert client.post("/api/v1/suggest", json=ok, headers=editor_headers).status_code == 200
    print(f"deep/oversized JSON: {tried} requests")


def test_every_paging_parameter_is_bounded(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    """Every GET route's k/limit/offset-like integer parameter refuses 10^12 and -1 (422)."""
    make_entry(session, title="打印机脱机")
    wrong, tried = [], 0
    for method, path, op in _operations(client.app):
        if method != "get":
            continue
        for param in op.get("parameters", []):
            schema = param.get("schema", {})
            kinds = {schema.get("type")} | {o.get("type") for o in schema.get("anyOf", [])}
            if param["in"] != "query" or param["name"] not in PAGING or "integer" not in kinds:
                continue
            for value in (10**12, -1, 10**30):
                url = f"{_url(path, op)}?{param['name']}={value}"
                if path == "/api/v1/search":
                    url += "&q=打印"
                r = client.get(url, headers=admin_headers)
                tried += 1
                if r.status_code != 422 or r.json().get("code") != "validation_failed":
                    wrong.append(f"GET {path}?{param['name']}={value} -> {r.status_code}")
    print(f"paging bounds: {tried} requests")
    assert tried >= 30 and not wrong, wrong


def test_thousands_of_tags_are_refused(
    client: TestClient, session: Session, editor_headers: dict[str, str]
) -> None:
    """Regression: a ticket took any number of tags (its captured draft inherits them), as a
    list or one comma-separated string; entries were already capped."""
    entry = make_entry(session, title="打印机脱机")
    many = [f"标签{i}" for i in range(5000)]
    cases = [
        ("post", "/api/v1/entries", {"title": "x", "tags": many}),
        ("post", "/api/v1/entries", {"title": "x", "tags": "，".join(many)}),
        ("patch", f"/api/v1/entries/{entry.id}", {"tags": many, "base_version": 1}),
        ("post", "/api/v1/tickets", [{"source": "a", "external_id": "t1", "tags": many}]),
        ("post", "/api/v1/tickets", {"source": "a", "external_id": "t2", "tags": ",".join(many)}),
    ]
    for method, url, body in cases:
        r = client.request(method.upper(), url, json=body, headers=editor_headers)
        assert r.status_code == 422, (url, r.status_code, r.text[:200])
        assert "tags" in json.dumps(r.json()["details"])
    r = client.post(
        "/api/v1/tickets",
        json={"source": "a", "external_id": "t3", "tags": many[:50]},
        headers=editor_headers,
    )
    assert r.status_code == 200, r.text
