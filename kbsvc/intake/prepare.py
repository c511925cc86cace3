"""The database-free half of an import batch: mask, map onto the vocabulary, hash, prefill.

It works on plain values only, so a batch can be prepared in another process
(kbsvc/intake/workers.py) while the one before it is written (kbsvc/intake/bulk.py). Each
value is what the row-by-row path stores (tests/kbsvc/intake/test_bulk_import.py): masked
fields, the vocabulary's spelling, the content hash, and the prefilled entry of a ticket
with a solution, masked and validated once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from kbsvc.config import PrivacySettings
from kbsvc.entries.capture import prefill_fields
from kbsvc.entries.models import EntryCreate
from kbsvc.privacy.pii import mask_field_dicts, scrub_ticket_dicts
from kbsvc.tickets.models import TicketIn, resolved_external_id, ticket_content_hash
from kbsvc.vocab.mapping import FIELDS, canonical_in
from kbsvc.vocab.service import Normalizer

_HASHED = tuple(TicketIn.model_fields)  # what a ticket's content hash covers (raw is dropped)


@dataclass(frozen=True)
class Plan:
    """What every batch of one import is prepared with."""

    privacy: PrivacySettings
    capture: bool  # prefill an entry for each ticket with a solution
    vocabulary: Normalizer
    # (kind, value) → canonical value: departments and systems repeat in every batch.
    seen: dict[tuple[str, str], str] = field(default_factory=dict, compare=False)

    def canonical(self, fields: dict[str, Any]) -> None:
        """System, module, department and category in the vocabulary's spelling, in place."""
        for kind in FIELDS:
            value = fields.get(kind)
            if isinstance(value, str):
                key = (kind, value)
                if key not in self.seen:
                    self.seen[key] = canonical_in(self.vocabulary, kind, value)
                fields[kind] = self.seen[key]


@dataclass
class Row:
    """One ticket ready to write."""

    line: int
    key: tuple[str, str]  # (source, external_id)
    ticket: dict[str, Any]  # every column but id and timestamps
    found: int  # patient identifiers found
    entry: dict[str, Any] | None = None  # the prefilled entry's columns plus "tags"
    problem: str = ""  # why the ticket cannot be stored (its masked text is invalid)
    entry_problem: str = ""  # why no entry can be prefilled from it


def validation_reason(exc: ValidationError) -> str:
    """The first error of a validation, as `field: message`."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ()))
    return f"{where}: {err.get('msg', 'invalid value')}"


def _entries(plan: Plan, rows: Sequence[Row]) -> None:
    """Each row's prefilled entry (capture.masked_prefill), as columns plus its tags."""
    views = [TicketIn.model_construct(**{k: r.ticket[k] for k in _HASHED}) for r in rows]
    masked = mask_field_dicts([prefill_fields(v) for v in views], plan.privacy)
    for row, fields in zip(rows, masked, strict=True):
        try:
            data = EntryCreate.model_validate(fields)
        except ValidationError as exc:
            row.entry_problem = f"no entry captured: {validation_reason(exc)}"
            continue
        out = data.model_dump(exclude={"tags", "restricted_departments"})
        plan.canonical(out)
        out["tags"] = list(dict.fromkeys(n.strip() for n in data.tags if n.strip()))
        row.entry = out


def prepare(plan: Plan, batch: Sequence[tuple[int, TicketIn]]) -> list[Row]:
    """Rows of (line, parsed ticket) ready to write, in order."""
    keep = plan.privacy.keep_raw_ticket_text
    dumped = [item.model_dump() for _line, item in batch]
    rows: list[Row] = []
    for (line, _item), (fields, found) in zip(
        batch, scrub_ticket_dicts(dumped, plan.privacy), strict=True
    ):
        if found and not keep:
            try:  # a replacement can make a text longer than the limits allow
                fields = TicketIn.model_validate(fields).model_dump()
            except ValidationError as exc:
                key = (fields["source"], resolved_external_id(fields))
                rows.append(
                    Row(line, key, {}, found, problem=f"after masking, {validation_reason(exc)}")
                )
                continue
        ticket = dict(fields)
        plan.canonical(ticket)
        ticket["external_id"] = resolved_external_id(fields)
        ticket["content_hash"] = ticket_content_hash({k: ticket[k] for k in _HASHED})
        rows.append(Row(line, (ticket["source"], ticket["external_id"]), ticket, found))
    if plan.capture:
        _entries(plan, [r for r in rows if not r.problem and r.ticket["solution"].strip()])
    return rows
