"""Who may see which entry: the one place the object-level visibility rule lives.

Rule: drafts and entries in review are visible to editors, reviewers and admins only; an entry
restricted to departments (rows in `entry_restrictions`) is visible only to principals of one of
those departments, and to admins. Everything that returns entries applies it alike: direct id
access (404, not 403, so ids do not leak), lists, search, suggest and handbook export. Every
hook takes the principal asking; internal jobs pass `auth.models.SYSTEM`, by name.

Hooks for other packages:
- SQL queries over `entries`: `stmt.where(visible_filter(principal))`.
- Ranked ids from an index: `filter_visible(session, principal, ids)` keeps order, drops hidden.
- One loaded entry: `can_view(session, principal, entry)` or `ensure_visible(...)` (NotFound).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import and_, delete, exists, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from kbsvc.auth.models import EntryRestriction, Principal, Role
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.exceptions import NotFound

UNPUBLISHED = (EntryStatus.draft.value, EntryStatus.in_review.value)


def sees_unpublished(principal: Principal) -> bool:
    """Editors and above (and the SYSTEM principal of internal jobs) see drafts and reviews."""
    return principal.has(Role.editor)


def sees_all_departments(principal: Principal) -> bool:
    """Admins (and the SYSTEM principal) are not bound by department restrictions."""
    return principal.role is Role.admin


def filter_key(principal: Principal) -> tuple[bool, bool, tuple[str, ...]]:
    """All that `visible_filter(principal)` depends on: one key, one filter (statements built
    with it can be kept per key)."""
    everywhere = sees_all_departments(principal)
    return (
        sees_unpublished(principal),
        everywhere,
        () if everywhere else tuple(principal.departments),
    )


def visible_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition on `entries` selecting the rows `principal` may see."""
    clauses: list[ColumnElement[bool]] = []
    if not sees_unpublished(principal):
        clauses.append(col(Entry.status).not_in(UNPUBLISHED))
    if not sees_all_departments(principal):
        restricted = exists().where(col(EntryRestriction.entry_id) == col(Entry.id))
        allowed = exists().where(
            col(EntryRestriction.entry_id) == col(Entry.id),
            col(EntryRestriction.department).in_(list(principal.departments)),
        )
        clauses.append(or_(~restricted, allowed))
    return and_(true(), *clauses)


def restrictions_of(session: Session, entry_ids: Sequence[int]) -> dict[int, list[str]]:
    """Restricted departments per entry id (empty list = unrestricted)."""
    out: dict[int, list[str]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    rows = session.execute(
        select(col(EntryRestriction.entry_id), col(EntryRestriction.department))
        .where(col(EntryRestriction.entry_id).in_(list(entry_ids)))
        .order_by(col(EntryRestriction.department))
    )
    for entry_id, department in rows:
        out[entry_id].append(department)
    return out


def set_restrictions(session: Session, entry_id: int, departments: Iterable[str]) -> None:
    """Replace an entry's department restriction (no commit)."""
    session.execute(delete(EntryRestriction).where(col(EntryRestriction.entry_id) == entry_id))
    for dept in dict.fromkeys(d.strip() for d in departments if d and d.strip()):
        session.add(EntryRestriction(entry_id=entry_id, department=dept))
    session.flush()


def can_view(session: Session, principal: Principal, entry: Entry) -> bool:
    """True when `principal` may see this entry."""
    if not sees_unpublished(principal) and entry.status in UNPUBLISHED:
        return False
    if sees_all_departments(principal):
        return True
    assert entry.id is not None
    depts = restrictions_of(session, [entry.id])[entry.id]
    return not depts or bool(set(depts) & set(principal.departments))


def ensure_visible(session: Session, principal: Principal, entry: Entry) -> Entry:
    """The entry, or NotFound (same answer as a missing id, so hidden ids do not leak)."""
    if not can_view(session, principal, entry):
        raise NotFound(f"entry {entry.id} not found", entry_id=entry.id)
    return entry


def hidden_ids(session: Session, principal: Principal, ids: Sequence[int]) -> set[int]:
    """Ids that exist but `principal` may not see (for frozen snapshots of deleted entries)."""
    if not ids or (sees_unpublished(principal) and sees_all_departments(principal)):
        return set()
    stmt = select(col(Entry.id)).where(col(Entry.id).in_(list(ids)))
    existing = set(session.execute(stmt).scalars())
    return existing - set(filter_visible(session, principal, list(existing)))


def filter_visible(session: Session, principal: Principal, ids: Sequence[int]) -> list[int]:
    """The ids `principal` may see, in the given order (for ranked index results)."""
    if not ids:
        return []
    if sees_unpublished(principal) and sees_all_departments(principal):
        # Still drop ids the index knows but the database no longer has.
        stmt = select(col(Entry.id)).where(col(Entry.id).in_(list(ids)))
    else:
        stmt = select(col(Entry.id)).where(col(Entry.id).in_(list(ids)), visible_filter(principal))
    keep = set(session.execute(stmt).scalars())
    return [i for i in ids if i in keep]
