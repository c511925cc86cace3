"""Signed inbound webhooks (helpdesks push ticket events) and their administration."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Request

from api.deps import Admin, SessionDep, SettingsDep
from api.errors import ERROR_RESPONSES
from api.uow import UnitOfWorkRoute
from kbsvc.hooks import delivery, service
from kbsvc.hooks.models import (
    NAME_PATTERN,
    DeadLettersPublic,
    DeadLetterStatus,
    DeliveryResult,
    EventOutcome,
    HookCreated,
    HookIn,
    HookPublic,
    HooksPublic,
    MappingIn,
)

router = APIRouter(
    prefix="/api/v1/hooks",
    tags=["webhooks"],
    responses=ERROR_RESPONSES,
    route_class=UnitOfWorkRoute,
)
HookName = Annotated[str, Path(pattern=NAME_PATTERN)]

_EVENT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "description": 'One event {"event": "created|updated|resolved", "id": "...", '
                    '"ticket": {...}} or a list of them; signed as raw bytes.',
                }
            }
        },
    }
}


async def raw_body(request: Request) -> bytes:
    """The exact bytes that were signed (parsing first would change them)."""
    return await request.body()


@router.post("/{name}", response_model=DeliveryResult, openapi_extra=_EVENT_BODY)
def deliver(
    name: HookName,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    body: Annotated[bytes, Depends(raw_body)],
    x_kbsvc_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    x_kbsvc_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> DeliveryResult:
    """Ticket events from a helpdesk, HMAC-signed; each event id is applied once."""
    hook = service.authenticate(
        session, name=name, timestamp=x_kbsvc_timestamp, sig=x_kbsvc_signature, body=body
    )
    result = delivery.receive(session, hook=hook, body=body, privacy=settings.privacy)
    request.state.audit = {
        "actor": f"hook:{name}",
        "object_type": "tickets",
        "object_ids": [str(e.ticket_id) for e in result.events if e.ticket_id][:100],
        "summary": f"{result.applied} applied, {result.duplicates} duplicates, "
        f"{result.dead_letters} dead letters",
    }
    return result


@router.post("", response_model=HookCreated, status_code=201)
def create_hook(body: HookIn, session: SessionDep, _caller: Admin) -> HookCreated:
    """Register a helpdesk; the response carries its signing secret, shown this once."""
    created = service.create(
        session,
        name=body.name,
        capture=body.capture,
        source=body.source,
        mapping_toml=body.mapping_toml,
    )
    return created


@router.get("", response_model=HooksPublic)
def list_hooks(session: SessionDep, _caller: Admin) -> HooksPublic:
    """Registered webhooks with their open dead-letter counts."""
    return service.list_hooks(session)


@router.put("/{name}/mapping", response_model=HookPublic)
def set_mapping(name: HookName, body: MappingIn, session: SessionDep, _caller: Admin) -> HookPublic:
    """Replace the hook's field mapping (TOML, as for `kbsvc import --mapping`)."""
    hook = service.set_mapping(session, name=name, mapping_toml=body.mapping_toml)
    return hook


@router.post("/{name}/secret", response_model=HookCreated)
def rotate_secret(name: HookName, session: SessionDep, _caller: Admin) -> HookCreated:
    """Replace the signing secret (shown once); deliveries signed with the old one get 401."""
    hook = service.rotate_secret(session, name=name)
    return hook


@router.get("/{name}/dead-letters", response_model=DeadLettersPublic)
def list_dead_letters(
    name: HookName,
    session: SessionDep,
    _caller: Admin,
    status: Literal["open", "replayed", "all"] = "open",
) -> DeadLettersPublic:
    """Events that could not be applied, with the reason (open ones by default)."""
    wanted = None if status == "all" else DeadLetterStatus(status)
    return delivery.dead_letters(session, name=name, status=wanted)


@router.post("/{name}/dead-letters/{letter_id}/replay", response_model=EventOutcome)
def replay_dead_letter(
    name: HookName, letter_id: int, session: SessionDep, settings: SettingsDep, _caller: Admin
) -> EventOutcome:
    """Apply a dead letter again with the hook's current mapping."""
    outcome = delivery.replay(session, name=name, letter_id=letter_id, privacy=settings.privacy)
    return outcome


@router.post("/{name}/dead-letters/replay", response_model=DeliveryResult)
def replay_all(
    name: HookName, session: SessionDep, settings: SettingsDep, _caller: Admin
) -> DeliveryResult:
    """Apply every open dead letter of the hook again, oldest first."""
    result = delivery.replay_all(session, name=name, privacy=settings.privacy)
    return result
