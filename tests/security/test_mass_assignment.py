"""Threat: a caller sets fields it must not through a create or update body (mass assignment):
`id`, `status`, `version`, `created_by`, `merged_into_id`.

Generated from the live OpenAPI document: every JSON write route gets a body built from its
schema (required fields filled, a few realistic bases where a pattern needs one) plus the
forbidden fields with poison values. Each must be refused (4xx) or ignored: no response and no
stored row carries a poison value. A schema that starts declaring one of them fails too.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import or_, select
from sqlmodel import Session, col

from kbsvc.entries.models import Entry, EntryLink
from kbsvc.feedback.models import Feedback, ReviewFlag
from kbsvc.handbooks.models import Handbook
from tests.api.test_route_guards import _url
from tests.factories import make_entry

POISON: dict[str, Any] = {
    "id": 987654,
    "status": "archived",
    "version": 987654,
    "created_by": "mallory",
    "merged_into_id": 987654,
}
# Routes whose answer rightly says `archived`: the walk archives entry 1, then purges it.
ARCHIVED = ("/archive", "/purge")
# Where a schema's generated body would not pass validation, a realistic one (by schema name).
BASES: dict[str, dict[str, Any]] = {
    "UserIn": {"username": "wangwu", "role": "viewer", "password": "s3cret-pass-1"},
    "ApiKeyIn": {"name": "his-sync", "role": "viewer"},
    "EntryCreate": {"title": "打印机脱机", "solution": "重启打印服务"},
    "EntryUpdate": {"title": "打印机脱机（更新）", "base_version": 1},
    "HandbookCreate": {"title": "新员工手册"},
    "HookIn": {"name": "his"},
    "TicketIn": {"source": "itsm", "external_id": "T-1", "title": "网络中断", "solution": "换线"},
    "WidgetCaptureIn": {"source": "itsm", "external_id": "W-1", "solution": "重启"},
    "VocabTermIn": {"kind": "system", "value": "HIS"},
    "FeedbackIn": {"helpful": True},
    "CitationIn": {"source": "itsm", "external_id": "T-1"},
    "ClickIn": {"entry_id": 1},
}


def _schema_of(op: dict[str, Any], components: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    options = schema.get("anyOf", [schema])
    for option in options:  # the object form of `Model | list[Model] | None`
        ref = option.get("$ref") or (option.get("items") or {}).get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            return name, components[name]
    return "", schema


def _value(prop: dict[str, Any]) -> Any:
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type") or next(
        (o.get("type") for o in prop.get("anyOf", []) if o.get("type") != "null"), "string"
    )
    return {
        "string": "x" * max(1, prop.get("minLength", 1)),
        "integer": 1,
        "number": 1,
        "boolean": False,
        "array": [],
        "object": {},
    }.get(kind, "x")


def _body(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    body = {k: _value(props[k]) for k in schema.get("required", [])}
    return {**body, **BASES.get(name, {}), **POISON}


def _poisoned(value: Any, path: str, trail: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in POISON and v == POISON[k] and not (k == "status" and path.endswith(ARCHIVED)):
                found.append(f"{trail}.{k}={v!r}")
            found += _poisoned(v, path, f"{trail}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _poisoned(v, path, f"{trail}[{i}]")
    return found


def test_no_write_schema_declares_a_protected_field(client: TestClient) -> None:
    spec = client.app.openapi()  # type: ignore[attr-defined]
    components = spec["components"]["schemas"]
    declared = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            for media in content.values():
                ref = str(media.get("schema"))
                for name, schema in components.items():
                    if f"/{name}'" in ref:
                        hits = set(schema.get("properties", {})) & set(POISON)
                        hits -= {"id"} if name == "ClickIn" else set()
                        if hits:
                            declared.append(f"{method.upper()} {path} {name}: {sorted(hits)}")
    assert not declared, declared


def test_protected_fields_in_write_bodies_are_refused_or_ignored(
    client: TestClient, session: Session, admin_headers: dict[str, str]
) -> None:
    make_entry(session, title="打印机卡纸", solution="取出卡纸")  # id 1 for `{entry_id}` paths
    spec = client.app.openapi()  # type: ignore[attr-defined]
    components = spec["components"]["schemas"]
    wrong: list[str] = []
    accepted: list[str] = []
    routes = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" not in content or path == "/api/v1/hooks/{name}":
                continue  # (hooks/{name}: HMAC-signed helpdesk events, 401 without)
            routes += 1
            name, schema = _schema_of(op, components)
            body = _body(name, schema)
            r = client.request(method.upper(), _url(path, op), json=body, headers=admin_headers)
            if r.status_code >= 500:
                wrong.append(f"{method.upper()} {path} -> {r.status_code}")
            elif r.status_code < 300:
                accepted.append(f"{method.upper()} {path}")
                found = _poisoned(r.json() if r.content else None, path)
                if found:
                    wrong.append(f"{method.upper()} {path} applied {found}")
    stored = {
        "entries": session.execute(
            select(Entry.id).where(
                or_(
                    col(Entry.id) == 987654,
                    col(Entry.created_by) == "mallory",
                    col(Entry.version) == 987654,
                    col(Entry.merged_into_id) == 987654,
                )
            )
        ).all(),
        "links": session.execute(
            select(EntryLink.id).where(col(EntryLink.created_by) == "mallory")
        ).all(),
        "feedback": session.execute(
            select(Feedback.id).where(col(Feedback.created_by) == "mallory")
        ).all(),
        "flags": session.execute(
            select(ReviewFlag.id).where(col(ReviewFlag.created_by) == "mallory")
        ).all(),
        "handbooks": session.execute(select(Handbook.id).where(col(Handbook.id) == 987654)).all(),
    }
    print(f"mass assignment: {routes} JSON write routes, {len(accepted)} accepted the body")
    assert not wrong, wrong
    assert not any(stored.values()), stored
    # The generated bodies reach the routes that create and update things.
    for must in (
        "POST /api/v1/entries",
        "PATCH /api/v1/entries/{entry_id}",
        "POST /api/v1/tickets",
    ):
        assert must in accepted, (must, accepted)
    assert len(accepted) >= 15, accepted
