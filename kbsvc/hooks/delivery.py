"""Deliveries: apply events once each (by event id), keep unmappable ones, replay them later."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kbsvc.config import PrivacySettings
from kbsvc.db import savepoint
from kbsvc.exceptions import Conflict, NotFound
from kbsvc.hooks import HookCapture
from kbsvc.hooks.models import (
    DeadLetterPublic,
    DeadLettersPublic,
    DeadLetterStatus,
    DeliveryResult,
    EventKind,
    EventOutcome,
    Hook,
    HookDeadLetter,
    HookEvent,
)
from kbsvc.hooks.payload import Unmappable, event_id_of, parse_event
from kbsvc.hooks.service import get, hook_mapping
from kbsvc.intake.live import upsert_ticket
from kbsvc.intake.mapping import Mapping
from kbsvc.tickets.models import TicketIn
from kbsvc.timeutil import utcnow

MAX_EVENTS = 1000


def _seen(session: Session, hook: Hook, event_id: str) -> bool:
    stmt = select(HookEvent.id).where(
        col(HookEvent.hook_id) == hook.id, col(HookEvent.event_id) == event_id
    )
    return session.exec(stmt).first() is not None


def _open_letter(session: Session, hook: Hook, event_id: str) -> HookDeadLetter | None:
    if not event_id:
        return None
    stmt = select(HookDeadLetter).where(
        col(HookDeadLetter.hook_id) == hook.id,
        col(HookDeadLetter.event_id) == event_id,
        col(HookDeadLetter.status) == DeadLetterStatus.open,
    )
    return session.exec(stmt).first()


def _dead_letter(
    session: Session, hook: Hook, event: Any, reason: str, letter: HookDeadLetter | None = None
) -> HookDeadLetter:
    """Keep the event with its reason; a re-sent event updates its open letter, not a new one."""
    event_id = event_id_of(event)
    letter = letter or _open_letter(session, hook, event_id)
    if letter is None:
        letter = HookDeadLetter(hook_id=hook.id or 0, event_id=event_id, payload=event)
    else:
        letter.attempts += 1
        letter.payload = event
    letter.reason = reason[:1000]
    session.add(letter)
    session.flush()
    return letter


def _apply(
    session: Session,
    hook: Hook,
    event: Any,
    mapping: Mapping,
    privacy: PrivacySettings,
    letter: HookDeadLetter | None = None,
) -> EventOutcome:
    """Apply one event in a savepoint; an unmappable one becomes (or stays) a dead letter."""
    try:
        event_id, kind, item = parse_event(event, mapping, source=hook.source)
    except Unmappable as exc:
        letter = _dead_letter(session, hook, event, str(exc), letter)
        return EventOutcome(
            event_id=letter.event_id,
            outcome="dead_letter",
            reason=letter.reason,
            dead_letter_id=letter.id,
        )
    if _seen(session, hook, event_id):
        return EventOutcome(event_id=event_id, outcome="duplicate")
    capture = hook.capture == HookCapture.draft and kind is EventKind.resolved
    try:
        with savepoint(session):
            return _store(session, hook, event_id, kind, item, capture, privacy)
    except IntegrityError:
        # The same event arrived twice at once: the other delivery applied it.
        return EventOutcome(event_id=event_id, outcome="duplicate")


def _store(
    session: Session,
    hook: Hook,
    event_id: str,
    kind: EventKind,
    item: TicketIn,
    capture: bool,
    privacy: PrivacySettings,
) -> EventOutcome:
    result = upsert_ticket(
        session, item, actor=f"hook:{hook.name}", privacy=privacy, capture=capture
    )
    entry_id = result.entry.id if result.entry is not None else None
    session.add(
        HookEvent(
            hook_id=hook.id or 0,
            event_id=event_id,
            kind=kind.value,
            ticket_id=result.ticket.id,
            entry_id=entry_id,
        )
    )
    letter = _open_letter(session, hook, event_id)
    if letter is not None:  # re-sent after the mapping was fixed: the letter is done
        letter.status, letter.replayed_at = DeadLetterStatus.replayed, utcnow()
        session.add(letter)
    session.flush()
    return EventOutcome(
        event_id=event_id, outcome="applied", ticket_id=result.ticket.id, entry_id=entry_id
    )


def _tally(outcomes: list[EventOutcome]) -> DeliveryResult:
    result = DeliveryResult(events=outcomes)
    for o in outcomes:
        if o.outcome == "applied":
            result.applied += 1
        elif o.outcome == "duplicate":
            result.duplicates += 1
        else:
            result.dead_letters += 1
    return result


def receive(
    session: Session, *, hook: Hook, body: bytes, privacy: PrivacySettings
) -> DeliveryResult:
    """Apply an authenticated delivery (one event or a list); nothing authentic is dropped."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        text = body.decode("utf-8", "replace")[:100_000]
        letter = _dead_letter(session, hook, text, "the body is not JSON")
        return _tally([EventOutcome(event_id="", outcome="dead_letter", reason=letter.reason)])
    events = data if isinstance(data, list) else [data]
    if len(events) > MAX_EVENTS:
        letter = _dead_letter(session, hook, data, f"more than {MAX_EVENTS} events in one body")
        return _tally([EventOutcome(event_id="", outcome="dead_letter", reason=letter.reason)])
    mapping = hook_mapping(hook)
    return _tally([_apply(session, hook, event, mapping, privacy) for event in events])


def _letter_public(letter: HookDeadLetter, hook: Hook) -> DeadLetterPublic:
    return DeadLetterPublic.model_validate(letter, update={"hook": hook.name})


def dead_letters(
    session: Session, *, name: str, status: DeadLetterStatus | None = DeadLetterStatus.open
) -> DeadLettersPublic:
    """A hook's dead letters (open ones by default), oldest first."""
    hook = get(session, name=name)
    stmt = select(HookDeadLetter).where(col(HookDeadLetter.hook_id) == hook.id)
    if status is not None:
        stmt = stmt.where(col(HookDeadLetter.status) == status)
    rows = session.exec(stmt.order_by(col(HookDeadLetter.id))).all()
    data = [_letter_public(r, hook) for r in rows]
    return DeadLettersPublic(data=data, count=len(data))


def replay(
    session: Session, *, name: str, letter_id: int, privacy: PrivacySettings
) -> EventOutcome:
    """Apply an open dead letter again with the hook's current mapping."""
    hook = get(session, name=name)
    letter = session.get(HookDeadLetter, letter_id)
    if letter is None or letter.hook_id != hook.id:
        raise NotFound(f"dead letter {letter_id} not found for webhook {name!r}")
    if letter.status != DeadLetterStatus.open:
        raise Conflict(f"dead letter {letter_id} was already replayed")
    outcome = _apply(session, hook, letter.payload, hook_mapping(hook), privacy, letter)
    if outcome.outcome != "dead_letter":
        # Applied now, or already applied by a later delivery of the same event.
        letter.status, letter.replayed_at = DeadLetterStatus.replayed, utcnow()
        session.add(letter)
        session.flush()
    outcome.dead_letter_id = letter.id
    return outcome


def replay_all(session: Session, *, name: str, privacy: PrivacySettings) -> DeliveryResult:
    """Replay every open dead letter of a hook, oldest first."""
    letters = dead_letters(session, name=name).data
    return _tally([replay(session, name=name, letter_id=d.id, privacy=privacy) for d in letters])
