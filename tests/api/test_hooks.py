"""Signed inbound webhooks: signatures, idempotence, capture on resolve, dead letters, replay."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from kbsvc.entries.models import Entry, EntryLink, EntryStatus
from kbsvc.tickets.models import Ticket

NESTED_MAPPING = """
[columns]
external_id = "key"
title = "fields.summary"
symptom = "fields.description"
solution = "fields.resolution.text"
system = "fields.app"
department = "reporter.dept"
"""


def make_hook(client: TestClient, headers: dict[str, str], name: str = "itsm", **body: Any) -> str:
    r = client.post("/api/v1/hooks", json={"name": name, **body}, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["secret"].startswith("whsec_")
    return str(r.json()["secret"])


def post(
    client: TestClient,
    name: str,
    secret: str,
    payload: Any,
    *,
    ts: int | None = None,
    tamper: bool = False,
) -> Any:
    body = json.dumps(payload, ensure_ascii=False).encode()
    stamp = str(int(time.time()) if ts is None else ts)
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {
        "X-Kbsvc-Timestamp": stamp,
        "X-Kbsvc-Signature": "sha256=" + mac,
        "Content-Type": "application/json",
    }
    return client.post(
        f"/api/v1/hooks/{name}", content=body + (b" " if tamper else b""), headers=headers
    )


def event(event_id: str, kind: str = "created", **ticket: Any) -> dict[str, Any]:
    data = {
        "external_id": "INC-1001",
        "title": "自助机不出凭条",
        "symptom": "门诊大厅2号自助机缴费后不出凭条，患者张三反映",
        "system": "自助机",
        "department": "门诊部",
    }
    data.update(ticket)
    return {"event": kind, "id": event_id, "ticket": data}


def count(session: Session, model: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_good_signature_upserts_and_resolve_captures_one_masked_draft(
    client: TestClient, session: Session, admin_headers: dict[str, str], settings: Any
) -> None:
    secret = make_hook(client, admin_headers, capture="draft")
    r = post(client, "itsm", secret, event("e1"))
    assert r.status_code == 200, r.text
    assert r.json()["applied"] == 1 and r.json()["events"][0]["entry_id"] is None
    ticket = session.execute(select(Ticket)).scalar_one()
    assert (ticket.source, ticket.external_id) == ("itsm", "INC-1001")
    assert "张三" not in ticket.symptom  # the site's masking applies before storage
    assert count(session, Entry) == 0  # created, not resolved: no knowledge yet
    audit = client.get("/api/v1/audit", params={"actor": "hook:itsm"}, headers=admin_headers)
    events = audit.json()["data"]
    assert events and events[0]["object_type"] == "tickets"
    assert events[0]["summary"] == "1 applied, 0 duplicates, 0 dead letters"

    resolved = event("e2", "resolved", solution="更换热敏纸，患者电话13812345678已回访")
    r = post(client, "itsm", secret, [resolved])
    entry_id = r.json()["events"][0]["entry_id"]
    assert r.json()["applied"] == 1 and entry_id
    session.expire_all()
    entry = session.get(Entry, entry_id)
    assert entry is not None and entry.status == "draft"
    assert "13812345678" not in entry.solution and "更换热敏纸" in entry.solution
    links = session.execute(select(EntryLink).where(EntryLink.entry_id == entry_id)).scalars()
    assert [(lk.source, lk.external_id, lk.kind) for lk in links] == [
        ("itsm", "INC-1001", "source")
    ]

    # Resolved again with a better fix: the same draft is updated, never a second one.
    post(client, "itsm", secret, event("e3", "resolved", solution="更换热敏纸并清洁打印头"))
    session.expire_all()
    assert count(session, Entry) == 1
    assert session.get(Entry, entry_id).solution == "更换热敏纸并清洁打印头"  # type: ignore[union-attr]

    # Once it left draft (here: published), the ticket no longer rewrites it: review rules apply.
    entry = session.get(Entry, entry_id)
    assert entry is not None
    entry.status = EntryStatus.published
    session.add(entry)
    session.commit()
    r = post(client, "itsm", secret, event("e4", "resolved", solution="别的说法"))
    assert r.json()["events"][0]["entry_id"] == entry_id
    session.expire_all()
    assert session.get(Entry, entry_id).solution == "更换热敏纸并清洁打印头"  # type: ignore[union-attr]


def test_capture_none_never_creates_entries(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    secret = make_hook(client, admin_headers)
    r = post(client, "itsm", secret, event("e1", "resolved", solution="重启服务"))
    assert r.json()["applied"] == 1
    assert count(session, Ticket) == 1 and count(session, Entry) == 0


def test_bad_signature_old_timestamp_and_missing_headers_are_401(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    secret = make_hook(client, admin_headers)
    for response in (
        post(client, "itsm", "whsec_wrong", event("e1")),
        post(client, "itsm", secret, event("e1"), tamper=True),
        post(client, "itsm", secret, event("e1"), ts=int(time.time()) - 301),
        post(client, "itsm", secret, event("e1"), ts=int(time.time()) + 400),
        client.post("/api/v1/hooks/itsm", json=event("e1")),
    ):
        assert response.status_code == 401, response.text
        assert response.json()["code"] == "unauthorized" and response.json()["message"]
    assert count(session, Ticket) == 0
    assert post(client, "nosuch", secret, event("e1")).status_code == 404


def test_same_event_id_twice_changes_nothing(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    secret = make_hook(client, admin_headers, capture="draft")
    first = post(client, "itsm", secret, event("e9", "resolved", solution="重装驱动"))
    assert first.json()["applied"] == 1
    before = session.execute(select(Ticket)).scalar_one()
    # A retried delivery, even with edited content, is recognised by its event id.
    again = post(client, "itsm", secret, event("e9", "resolved", solution="别的方法"))
    assert again.status_code == 200
    assert again.json()["duplicates"] == 1 and again.json()["applied"] == 0
    session.expire_all()
    after = session.execute(select(Ticket)).scalar_one()
    assert after.solution == "重装驱动" and after.updated_at == before.updated_at
    assert count(session, Entry) == 1 and count(session, Ticket) == 1


def test_unmappable_goes_to_dead_letter_and_replays_after_mapping_fix(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    secret = make_hook(client, admin_headers, capture="draft")
    nested = {
        "event": "resolved",
        "id": "jira-77",
        "ticket": {
            "key": "OPS-77",
            "fields": {
                "summary": "PACS 看片黑屏",
                "description": "放射科阅片室PACS打开影像黑屏",
                "resolution": {"text": "更新显卡驱动后恢复"},
                "app": "PACS",
            },
            "reporter": {"dept": "放射科"},
        },
    }
    r = post(client, "itsm", secret, [nested, event("ok-1")])
    assert r.status_code == 200
    assert (r.json()["applied"], r.json()["dead_letters"]) == (1, 1)
    letters = client.get("/api/v1/hooks/itsm/dead-letters", headers=admin_headers).json()
    assert letters["count"] == 1
    letter = letters["data"][0]
    assert letter["event_id"] == "jira-77" and letter["payload"] == nested
    assert "title, symptom, description or solution" in letter["reason"]
    assert (
        client.get("/api/v1/hooks", headers=admin_headers).json()["data"][0]["open_dead_letters"]
        == 1
    )

    # Re-sent before the fix: the same letter counts another attempt, no second letter.
    post(client, "itsm", secret, nested)
    letters = client.get("/api/v1/hooks/itsm/dead-letters", headers=admin_headers).json()
    assert letters["count"] == 1 and letters["data"][0]["attempts"] == 2

    bad = client.put(
        "/api/v1/hooks/itsm/mapping",
        json={"mapping_toml": "[columns]\nnot_a_field = 'x'"},
        headers=admin_headers,
    )
    assert bad.status_code == 422 and "unknown field" in bad.json()["message"]
    fixed = client.put(
        "/api/v1/hooks/itsm/mapping", json={"mapping_toml": NESTED_MAPPING}, headers=admin_headers
    )
    assert fixed.status_code == 200, fixed.text
    r = client.post(f"/api/v1/hooks/itsm/dead-letters/{letter['id']}/replay", headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "applied" and r.json()["entry_id"]
    ticket = session.execute(select(Ticket).where(Ticket.external_id == "OPS-77")).scalar_one()
    assert (ticket.title, ticket.system, ticket.department) == ("PACS 看片黑屏", "PACS", "放射科")
    assert ticket.solution == "更新显卡驱动后恢复"
    assert client.get("/api/v1/hooks/itsm/dead-letters", headers=admin_headers).json()["count"] == 0
    again = client.post(
        f"/api/v1/hooks/itsm/dead-letters/{letter['id']}/replay", headers=admin_headers
    )
    assert again.status_code == 409
    # The event is now applied: the helpdesk retrying it changes nothing.
    assert post(client, "itsm", secret, nested).json()["duplicates"] == 1


def test_non_json_and_broken_events_are_kept(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    secret = make_hook(client, admin_headers)
    body = b"not json"
    stamp = str(int(time.time()))
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    r = client.post(
        "/api/v1/hooks/itsm",
        content=body,
        headers={"X-Kbsvc-Timestamp": stamp, "X-Kbsvc-Signature": f"sha256={mac}"},
    )
    assert r.status_code == 200 and r.json()["dead_letters"] == 1
    post(client, "itsm", secret, [{"event": "closed", "id": "x1", "ticket": {"title": "a"}}])
    post(client, "itsm", secret, [{"event": "created", "ticket": {"title": "a"}}])
    reasons = [
        d["reason"]
        for d in client.get("/api/v1/hooks/itsm/dead-letters", headers=admin_headers).json()["data"]
    ]
    assert reasons[0] == "the body is not JSON"
    assert "event must be one of created, updated, resolved" in reasons[1]
    assert reasons[2] == "the event has no id"


def test_hook_admin_needs_admin(
    client: TestClient, editor_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    assert (
        client.post("/api/v1/hooks", json={"name": "x"}, headers=editor_headers).status_code == 403
    )
    assert client.get("/api/v1/hooks", headers=editor_headers).status_code == 403
    make_hook(client, admin_headers, name="dup")
    r = client.post("/api/v1/hooks", json={"name": "dup"}, headers=admin_headers)
    assert r.status_code == 409
    assert "secret" not in client.get("/api/v1/hooks", headers=admin_headers).json()["data"][0]


def test_rotated_secret_replaces_the_old_one(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    old = make_hook(client, admin_headers)
    r = client.post("/api/v1/hooks/itsm/secret", headers=admin_headers)
    assert r.status_code == 200 and r.json()["secret"] != old
    assert post(client, "itsm", old, event("e1")).status_code == 401
    assert post(client, "itsm", r.json()["secret"], event("e1")).json()["applied"] == 1


def test_the_readme_openssl_signature_is_accepted(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    """The README's curl example signs with `openssl dgst -sha256 -hmac`: it must verify."""
    secret = make_hook(client, admin_headers)
    body = '{"event":"created","id":"evt-1","ticket":{"external_id":"INC-1","title":"打印机卡纸"}}'
    stamp = str(int(time.time()))
    script = (
        'printf \'%s.%s\' "$TS" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed \'s/^.* //\''
    )
    sig = subprocess.run(
        ["bash", "-c", script],
        env={"TS": stamp, "BODY": body, "SECRET": secret, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    r = client.post(
        "/api/v1/hooks/itsm",
        content=body.encode(),
        headers={"X-Kbsvc-Timestamp": stamp, "X-Kbsvc-Signature": f"sha256={sig}"},
    )
    assert r.status_code == 200 and r.json()["applied"] == 1, r.text
