"""Event bodies → tickets, through the same TOML mapping as `kbsvc import` (dotted JSON paths)."""

from __future__ import annotations

from typing import Any

from kbsvc.exceptions import KbError
from kbsvc.hooks.models import EventKind
from kbsvc.intake.mapping import Mapping
from kbsvc.intake.parsing import parse_row
from kbsvc.tickets.models import TicketIn

MAX_DEPTH = 8


class Unmappable(ValueError):
    """An authentic event that cannot become a ticket; the message is the dead-letter reason."""


def flatten(value: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Nested JSON objects as one level of dotted keys ({"a": {"b": 1}} → {"a.b": 1})."""
    out: dict[str, Any] = {}
    if not isinstance(value, dict) or depth > MAX_DEPTH:
        out[prefix] = value
        return out
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            out.update(flatten(item, path, depth + 1))
        else:
            out[path] = item
    return out


def event_id_of(event: Any) -> str:
    """The event's id if it has a usable one (for dead letters of otherwise broken events)."""
    if isinstance(event, dict) and isinstance(event.get("id"), str | int):
        return str(event["id"]).strip()[:200]
    return ""


def parse_event(event: Any, mapping: Mapping, *, source: str) -> tuple[str, EventKind, TicketIn]:
    """(event id, kind, ticket) of one event; raises Unmappable with a readable reason."""
    if not isinstance(event, dict):
        raise Unmappable("an event must be a JSON object")
    event_id = event_id_of(event)
    if not event_id:
        raise Unmappable("the event has no id")
    try:
        kind = EventKind(str(event.get("event", "")))
    except ValueError:
        allowed = ", ".join(k.value for k in EventKind)
        raise Unmappable(f"event must be one of {allowed}, got {event.get('event')!r}") from None
    ticket = event.get("ticket")
    if not isinstance(ticket, dict) or not ticket:
        raise Unmappable("the event has no ticket object")
    values = flatten(ticket)
    try:
        bound = mapping.bind(list(values))
        item = parse_row(
            values, bound, source=mapping.source or source, date_formats=mapping.date_formats
        )
    except KbError as exc:
        raise Unmappable(exc.message) from None
    except ValueError as exc:
        raise Unmappable(str(exc)) from None
    if not item.external_id:
        raise Unmappable("no ticket id: the ticket needs external_id (or map it to a field)")
    return event_id, kind, item
