"""Handbook editions: freezing the current selection, and what changed since the last one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import SYSTEM, Principal
from kbsvc.config import Settings
from kbsvc.db import savepoint
from kbsvc.entries.models import EntryStatus
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.handbooks import document, service
from kbsvc.handbooks.models import (
    EditionChange,
    EditionChanges,
    EditionPublic,
    EditionsPublic,
    Grouping,
    HandbookEdition,
)
from kbsvc.handbooks.selection import EntrySearch


def diff(previous: list[dict[str, Any]], current: list[dict[str, Any]]) -> EditionChanges:
    """Entries added, updated (version changed) and removed between two snapshots."""
    before = {int(e["id"]): e for e in previous}
    after = {int(e["id"]): e for e in current}
    return EditionChanges(
        added=[
            EditionChange(id=i, title=e["title"], version=e["version"])
            for i, e in after.items()
            if i not in before
        ],
        updated=[
            EditionChange(
                id=i, title=e["title"], version=e["version"], previous_version=before[i]["version"]
            )
            for i, e in after.items()
            if i in before and before[i]["version"] != e["version"]
        ],
        removed=[
            EditionChange(id=i, title=e["title"], previous_version=e["version"])
            for i, e in before.items()
            if i not in after
        ],
    )


def _latest(session: Session, handbook_id: int) -> HandbookEdition | None:
    stmt = (
        select(HandbookEdition)
        .where(col(HandbookEdition.handbook_id) == handbook_id)
        .order_by(col(HandbookEdition.number).desc())
        .limit(1)
    )
    return session.execute(stmt).scalar_one_or_none()


def publish_edition(
    session: Session,
    *,
    handbook_id: int,
    actor: str,
    settings: Settings,
    search: EntrySearch,
) -> HandbookEdition:
    """Freeze the entries the handbook selects now as its next edition."""
    handbook = service.get(session, handbook_id=handbook_id)
    if handbook.selection.get("status", EntryStatus.published.value) != EntryStatus.published.value:
        # A frozen draft would reach every viewer once its entry is published, unreviewed.
        raise ValidationFailed(
            "only published entries can be frozen into an edition; select status published",
            field="selection.status",
        )
    # An edition is frozen for every reader; each export drops what its reader may not see.
    shaping = service.shaping_of(handbook)
    # Frozen in reading order, so the edition reads as the preview did at publication.
    entries = document.arrange(
        service.current_entries(session, handbook, settings, search=search, principal=SYSTEM),
        shaping.order,
    )
    previous = _latest(session, handbook_id)
    changes = diff(previous.snapshot if previous else [], entries)
    edition = HandbookEdition(
        handbook_id=handbook_id,
        number=(previous.number + 1) if previous else 1,
        published_by=actor,
        snapshot=entries,
        changes=changes.model_dump(mode="json"),
        definition={
            "title": handbook.title,
            "subtitle": handbook.subtitle,
            "intro": handbook.intro,
            "grouping": Grouping(handbook.grouping).value,
            "selection": handbook.selection,
            "order": shaping.order,
            "chapter_notes": shaping.chapter_notes,
        },
    )
    try:
        with savepoint(session):  # only the edition is undone when another one won
            session.add(edition)
    except IntegrityError:
        raise Conflict("another edition was published at the same time; retry") from None
    return edition


def get_edition(session: Session, *, handbook_id: int, number: int) -> HandbookEdition:
    """One edition or NotFound."""
    stmt = select(HandbookEdition).where(
        col(HandbookEdition.handbook_id) == handbook_id,
        col(HandbookEdition.number) == number,
    )
    edition = session.execute(stmt).scalar_one_or_none()
    if edition is None:
        raise NotFound(
            f"handbook {handbook_id} has no edition {number}",
            handbook_id=handbook_id,
            edition=number,
        )
    return edition


def edition_public(
    session: Session, edition: HandbookEdition, *, principal: Principal
) -> EditionPublic:
    """An edition as `principal` may see it: hidden entries neither listed nor counted."""
    changes = EditionChanges(**edition.changes)
    ids = [int(e["id"]) for e in edition.snapshot]
    ids += [c.id for part in (changes.added, changes.updated, changes.removed) for c in part]
    hidden = policy.hidden_ids(session, principal, ids)
    return EditionPublic(
        handbook_id=edition.handbook_id,
        number=edition.number,
        published_at=edition.published_at,
        published_by=edition.published_by,
        entry_count=sum(1 for e in edition.snapshot if int(e["id"]) not in hidden),
        changes=EditionChanges(
            added=[c for c in changes.added if c.id not in hidden],
            updated=[c for c in changes.updated if c.id not in hidden],
            removed=[c for c in changes.removed if c.id not in hidden],
        ),
    )


def list_editions(session: Session, *, handbook_id: int, principal: Principal) -> EditionsPublic:
    """Every edition of a handbook, newest first, as `principal` may see it."""
    service.get(session, handbook_id=handbook_id)
    stmt = (
        select(HandbookEdition)
        .where(col(HandbookEdition.handbook_id) == handbook_id)
        .order_by(col(HandbookEdition.number).desc())
    )
    rows = [
        edition_public(session, e, principal=principal) for e in session.execute(stmt).scalars()
    ]
    return EditionsPublic(data=rows, count=len(rows))
