"""Canonical values on the way in, and the values that could not be mapped.

Entries and tickets store the vocabulary's canonical value (HIS系统 → HIS, 医保结算 → 医保) so
filters, the heatmap and reports do not split one system into several. Values the vocabulary
does not know are kept as typed and listed by `unmapped()` for an admin to map or add; mapping
one fixes the rows that already hold it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, SQLModel, col

from kbsvc.db import rowcount
from kbsvc.entries import changes
from kbsvc.entries.models import Entry
from kbsvc.exceptions import ValidationFailed
from kbsvc.tickets.models import Ticket
from kbsvc.vocab.models import VocabKind, VocabTerm
from kbsvc.vocab.service import NORMALIZER_CACHE as _CACHE_KEY
from kbsvc.vocab.service import Normalizer

FIELDS = ("system", "module", "department", "category")  # the kinds entries and tickets carry
# Exact, alias and "known value inside extra words" only: a closest-spelling guess must not
# silently rewrite what a person typed.
_MAPPED = ("exact", "alias", "fuzzy")


def normalizer(session: Session) -> Normalizer:
    """The vocabulary, loaded once per session (imports call this once per row)."""
    cached = session.info.get(_CACHE_KEY)
    if cached is None:
        cached = Normalizer.load(session, cutoff=1.0)
        session.info[_CACHE_KEY] = cached
    return cached


def forget(session: Session) -> None:
    """Drop the cached vocabulary after it changed."""
    session.info.pop(_CACHE_KEY, None)


def canonical(session: Session, kind: str, value: str) -> str:
    """The canonical spelling of `value`, or `value` itself when the vocabulary lacks it."""
    return canonical_in(normalizer(session), kind, value)


def canonical_in(norm: Normalizer, kind: str, value: str) -> str:
    """canonical() against a loaded vocabulary (no session: bulk imports run it in workers)."""
    if not value or not value.strip():
        return value
    if not norm.values.get(kind):
        return value  # this site keeps no vocabulary of this kind
    found = norm.normalize(kind, value)
    return found.value if found.match in _MAPPED else value.strip()


def canonical_fields(session: Session, fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with system, module, department and category mapped onto the vocabulary."""
    out = dict(fields)
    for kind in FIELDS:
        if isinstance(out.get(kind), str):
            out[kind] = canonical(session, kind, out[kind])
    return out


class UnmappedValue(SQLModel):
    kind: str
    value: str
    entries: int
    tickets: int
    suggestion: str = ""


def unmapped(session: Session) -> list[UnmappedValue]:
    """Values in entries and tickets that are not a canonical vocabulary value, most used first."""
    known = {(str(t.kind), t.value) for t in session.execute(select(VocabTerm)).scalars()}
    norm = normalizer(session)
    counts: dict[tuple[str, str], list[int]] = {}
    for slot, model in enumerate((Entry, Ticket)):
        for kind in FIELDS:
            column = getattr(model, kind)
            rows = session.execute(
                select(column, func.count()).where(column != "").group_by(column)
            ).all()
            for value, n in rows:
                if (kind, value) not in known:
                    counts.setdefault((kind, value), [0, 0])[slot] += int(n)
    # Suggestions may use the closest spelling: a person confirms them before anything changes.
    guesser = Normalizer(list(session.execute(select(VocabTerm)).scalars()), 0.6)
    out = []
    for (kind, value), (n_entries, n_tickets) in counts.items():
        guess = guesser.normalize(kind, value) if norm.values.get(kind) else None
        out.append(
            UnmappedValue(
                kind=kind,
                value=value,
                entries=n_entries,
                tickets=n_tickets,
                suggestion=guess.value if guess and guess.match != "none" else "",
            )
        )
    return sorted(out, key=lambda u: (-(u.entries + u.tickets), u.kind, u.value))


def apply_mapping(
    session: Session, *, kind: str, value: str, target: str, add_alias: bool = True
) -> dict[str, int]:
    """Map `value` onto `target` (created when new): an alias for the future, rows fixed now."""
    if kind not in FIELDS:
        raise ValidationFailed(f"unknown vocabulary kind {kind!r}")
    target, value = target.strip(), value.strip()
    if not target or not value:
        raise ValidationFailed("both the value and the target are needed")
    term = session.execute(
        select(VocabTerm).where(col(VocabTerm.kind) == kind, col(VocabTerm.value) == target)
    ).scalar_one_or_none()
    if term is None:
        term = VocabTerm(kind=VocabKind(kind), value=target, aliases=[])
    if add_alias and value != target and value not in term.aliases:
        term.aliases = [*term.aliases, value]
    session.add(term)
    ids = list(
        session.execute(select(col(Entry.id)).where(getattr(Entry, kind) == value)).scalars()
    )
    if value != target:
        session.execute(update(Entry).where(getattr(Entry, kind) == value).values({kind: target}))
        tickets = rowcount(
            session.execute(
                update(Ticket).where(getattr(Ticket, kind) == value).values({kind: target})
            )
        )
    else:
        tickets = 0
    for entry_id in ids:
        changes.record_change(session, entry_id)  # the index filters on these fields
    session.flush()
    forget(session)
    return {"entries": len(ids) if value != target else 0, "tickets": int(tickets or 0)}
