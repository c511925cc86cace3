"""Controlled vocabularies: aliases map values at the API and import; unmapped values get fixed."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session

from kbsvc.config import Settings
from kbsvc.tickets import service as tickets
from kbsvc.vocab import service as vocab
from tests.cli import run_kbsvc
from tests.factories import make_entry, make_ticket

H = dict[str, str]


def test_api_and_import_map_aliases(
    client: TestClient, session: Session, editor_headers: H, reviewer_headers: H
) -> None:
    vocab.seed_defaults(session)
    body = {"title": "门诊医保结算失败", "system": "医保结算", "department": "心内科病区"}
    r = client.post("/api/v1/entries", json=body, headers=editor_headers)
    assert r.status_code == 201, r.text
    assert (r.json()["system"], r.json()["department"]) == ("医保", "心内科")
    url = f"/api/v1/entries/{r.json()['id']}"
    r = client.patch(url, json={"system": "HIS系统", "base_version": 1}, headers=editor_headers)
    assert r.json()["system"] == "HIS"
    # A revision of a published entry is mapped as well.
    entry = make_entry(session, system="PACS")
    r = client.patch(
        f"/api/v1/entries/{entry.id}",
        json={"system": "电子病历", "base_version": 1},
        headers=editor_headers,
    )
    rev = client.get(f"/api/v1/entries/{entry.id}/revision", headers=reviewer_headers).json()
    assert rev["content"]["system"] == "EMR"
    # Import: tickets are stored with the canonical name (and stay idempotent).
    ticket = make_ticket(session, system="体检系统", department="门诊收费处")
    assert (ticket.system, ticket.department) == ("体检", "收费处")
    again, outcome = tickets.upsert_one(session, tickets_in(ticket))
    assert outcome == "unchanged" and again.id == ticket.id
    # Unknown values are kept as typed.
    odd = make_ticket(session, system="手麻系统")
    assert odd.system == "手麻系统"


def tickets_in(ticket):  # type: ignore[no-untyped-def]
    from kbsvc.tickets.models import TicketIn
    from tests.factories import ticket_data

    return TicketIn(
        **ticket_data(external_id=ticket.external_id, system="体检系统", department="门诊收费处")
        | {k: getattr(ticket, k) for k in ("title", "symptom", "cause", "solution")}
    )


def test_unmapped_values_are_listed_and_fixed(
    client: TestClient, session: Session, admin_headers: H, reviewer_headers: H
) -> None:
    make_entry(session, system="手麻系统")
    make_ticket(session, system="手麻系统")
    make_ticket(session, system="心电系统")
    vocab.seed_defaults(session)
    assert client.get("/api/v1/vocabularies/unmapped", headers=reviewer_headers).status_code == 403
    rows = client.get("/api/v1/vocabularies/unmapped", headers=admin_headers).json()
    by_value = {(r["kind"], r["value"]): r for r in rows}
    assert by_value[("system", "手麻系统")] == {
        **by_value[("system", "手麻系统")],
        "entries": 1,
        "tickets": 1,
    }
    r = client.post(
        "/api/v1/vocabularies/map",
        json={"kind": "system", "value": "手麻系统", "target": "手麻"},
        headers=admin_headers,
    )
    assert r.status_code == 200 and r.json() == {"entries": 1, "tickets": 1}
    rows = client.get("/api/v1/vocabularies/unmapped", headers=admin_headers).json()
    assert ("system", "手麻系统") not in {(r["kind"], r["value"]) for r in rows}
    terms = client.get("/api/v1/vocabularies?kind=system", headers=admin_headers).json()["data"]
    assert {"value": "手麻", "aliases": ["手麻系统"]}.items() <= next(
        t for t in terms if t["value"] == "手麻"
    ).items()
    listing = client.get("/api/v1/entries?system=手麻", headers=admin_headers).json()
    assert listing["count"] == 1


def test_vocab_unmapped_cli(settings: Settings, session: Session) -> None:
    vocab.seed_defaults(session)
    make_ticket(session, system="移动护理")
    out = run_kbsvc(settings, "vocab", "unmapped")
    assert out.returncode == 0, out.stderr
    assert "system\t移动护理\t0 entries, 1 tickets" in out.stdout
    out = run_kbsvc(settings, "vocab", "map", "system", "移动护理", "移动护理")
    assert out.returncode == 0, out.stderr
    assert "移动护理" not in run_kbsvc(settings, "vocab", "unmapped").stdout
