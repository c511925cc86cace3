"""Webhooks: create, list and configure hooks; authenticate a delivery."""

from __future__ import annotations

import re

from sqlalchemy import func
from sqlmodel import Session, col, select

from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.hooks import HookCapture, signing
from kbsvc.hooks.models import (
    NAME_PATTERN,
    DeadLetterStatus,
    Hook,
    HookCreated,
    HookDeadLetter,
    HookPublic,
    HooksPublic,
)
from kbsvc.intake.mapping import Mapping, parse_mapping_toml
from kbsvc.timeutil import utcnow


def hook_mapping(hook: Hook) -> Mapping:
    """The hook's stored mapping, parsed."""
    return parse_mapping_toml(hook.mapping_toml, origin=f"hook {hook.name}")


def _public(session: Session, hook: Hook) -> HookPublic:
    open_count = session.exec(
        select(func.count())
        .select_from(HookDeadLetter)
        .where(
            col(HookDeadLetter.hook_id) == hook.id,
            col(HookDeadLetter.status) == DeadLetterStatus.open,
        )
    ).one()
    return HookPublic.model_validate(hook, update={"open_dead_letters": open_count})


def get(session: Session, *, name: str) -> Hook:
    """The hook or NotFound."""
    hook = session.exec(select(Hook).where(col(Hook.name) == name)).first()
    if hook is None:
        raise NotFound(f"no webhook named {name!r}", hook=name)
    return hook


def create(
    session: Session,
    *,
    name: str,
    capture: HookCapture = HookCapture.none,
    source: str = "",
    mapping_toml: str = "",
) -> HookCreated:
    """A new hook with a fresh secret (shown once); the mapping is checked before storing."""
    if len(source.strip()) > 64:
        raise ValidationFailed("source must be at most 64 characters")
    if not re.fullmatch(NAME_PATTERN, name):
        raise ValidationFailed(
            f"hook name {name!r}: use 1–63 lower-case letters, digits, '-' or '_'", hook=name
        )
    parse_mapping_toml(mapping_toml, origin=f"hook {name}")
    if session.exec(select(Hook.id).where(col(Hook.name) == name)).first() is not None:
        raise Conflict(f"a webhook named {name!r} already exists", hook=name)
    hook = Hook(
        name=name,
        secret=signing.new_secret(),
        source=source.strip() or name,
        capture=capture,
        mapping_toml=mapping_toml,
    )
    session.add(hook)
    session.flush()
    return HookCreated(**_public(session, hook).model_dump(), secret=hook.secret)


def list_hooks(session: Session) -> HooksPublic:
    """Every hook, by name (no secrets)."""
    hooks = session.exec(select(Hook).order_by(col(Hook.name))).all()
    data = [_public(session, h) for h in hooks]
    return HooksPublic(data=data, count=len(data))


def set_mapping(session: Session, *, name: str, mapping_toml: str) -> HookPublic:
    """Replace a hook's mapping (checked first); replay its dead letters afterwards."""
    hook = get(session, name=name)
    parse_mapping_toml(mapping_toml, origin=f"hook {name}")
    hook.mapping_toml = mapping_toml
    hook.updated_at = utcnow()
    session.add(hook)
    session.flush()
    return _public(session, hook)


def authenticate(
    session: Session, *, name: str, timestamp: str | None, sig: str | None, body: bytes
) -> Hook:
    """The hook this delivery is for, if its signature and timestamp hold (else Unauthorized)."""
    if not timestamp or not sig:
        signing.verify("", timestamp, sig, body)  # raises the missing-header message
    hook = get(session, name=name)
    signing.verify(hook.secret, timestamp, sig, body)
    return hook


def rotate_secret(session: Session, *, name: str) -> HookCreated:
    """A fresh secret for the hook (shown once); the old one stops working at once."""
    hook = get(session, name=name)
    hook.secret = signing.new_secret()
    hook.updated_at = utcnow()
    session.add(hook)
    session.flush()
    return HookCreated(**_public(session, hook).model_dump(), secret=hook.secret)
