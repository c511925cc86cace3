"""Request ids, security headers, trusted hosts, JSON access logs and /metrics."""

from __future__ import annotations

import json

import pytest
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kbsvc.config import Settings


def test_request_id_in_and_out(client: TestClient) -> None:
    assert client.get("/livez", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    generated = client.get("/livez", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert len(generated) == 32 and " " not in generated


def test_security_headers(app, viewer_headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    @app.get("/ui-probe", response_class=HTMLResponse)
    def page() -> str:
        return "<html><body>知识库</body></html>"

    @app.get("/widget.js")
    def widget() -> str:
        return "/* widget */"

    with TestClient(app) as client:
        api = client.get("/api/v1/entries", headers=viewer_headers)
        assert api.headers["x-content-type-options"] == "nosniff"
        assert api.headers["x-frame-options"] == "DENY"
        assert api.headers["cache-control"] == "no-store"
        html = client.get("/ui-probe")
        csp = html.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
        assert "'nonce-" in csp
        w = client.get("/widget.js")
        assert "x-frame-options" not in w.headers and w.headers["x-content-type-options"]


def test_untrusted_host_refused(settings: Settings, engine: Engine) -> None:
    from api.app import create_app

    settings.trusted_hosts = ["kb.hospital.cn"]
    with TestClient(create_app(settings, db_engine=engine), base_url="http://kb.hospital.cn") as c:
        assert c.get("/livez").status_code == 200
        assert c.get("/livez", headers={"Host": "evil.example"}).status_code == 400


def test_access_log_is_json_without_query_or_body(
    client: TestClient, editor_headers: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    client.post("/api/v1/entries", json={"title": "患者李四门诊号12345"}, headers=editor_headers)
    client.get("/api/v1/tickets", params={"q": "病人王五"}, headers=editor_headers)
    lines = [json.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    access = [x for x in lines if x["logger"] == "kbsvc.access"]
    assert {x["route"] for x in access} >= {"/api/v1/entries", "/api/v1/tickets"}
    assert all(x["request_id"] and x["actor"] == "apikey:test-editor" for x in access)
    text = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
    assert "李四" not in text and "王五" not in text and "12345" not in text


def test_metrics(client: TestClient, viewer_headers: dict[str, str]) -> None:
    client.get("/api/v1/entries", headers=viewer_headers)
    client.get("/api/v1/entries/987654", headers=viewer_headers)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    body = r.text
    assert 'kbsvc_http_request_duration_seconds_count{method="GET",route="/api/v1/entries"' in body
    assert 'route="/api/v1/entries/{entry_id}",status="404"' in body
    assert "kbsvc_entries_latest_seq" in body and "987654" not in body


def test_metrics_read_the_search_engine_status(client: TestClient, session: Session) -> None:
    from tests.factories import make_entry

    make_entry(session)
    make_entry(session, title="PACS影像调阅很慢")
    client.app.state.search_engine.sync()  # type: ignore[attr-defined]
    status = client.app.state.search_engine.status()  # type: ignore[attr-defined]
    body = client.get("/metrics").text
    assert f"kbsvc_index_size {float(status['entries'])}" in body and status["entries"] == 2
    assert f"kbsvc_index_applied_seq {float(status['last_seq'])}" in body


def test_readyz_reports_probes(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"]["database"] == "ok"
        app.state.readiness["index"] = lambda: "behind by 3 changes"
        app.state.readiness["model"] = lambda: 1 / 0
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["index"] == "behind by 3 changes"
    assert r.json()["checks"]["model"].startswith("error")
