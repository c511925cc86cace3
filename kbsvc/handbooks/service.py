"""Handbook data access: definitions, editions, and the document a rendering starts from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from kbsvc.attachments import service as attachments
from kbsvc.auth import policy
from kbsvc.auth.models import SYSTEM, Principal
from kbsvc.config import Settings
from kbsvc.db import savepoint
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed
from kbsvc.handbooks import document
from kbsvc.handbooks.models import (
    EditionChange,
    EditionChanges,
    EditionPublic,
    EditionsPublic,
    Grouping,
    Handbook,
    HandbookCreate,
    HandbookEdition,
    HandbookPublic,
    HandbooksPublic,
    HandbookUpdate,
    Selection,
    Shaping,
)
from kbsvc.handbooks.selection import EntrySearch, select_entries
from kbsvc.timeutil import utcnow

NO_ENTRIES = (
    "没有符合条件的已发布知识条目，无法生成手册；请放宽筛选条件。"
    " / No published entries match this handbook's selection."
)


def get(session: Session, *, handbook_id: int) -> Handbook:
    """The handbook or NotFound."""
    handbook = session.get(Handbook, handbook_id)
    if handbook is None:
        raise NotFound(f"handbook {handbook_id} not found", handbook_id=handbook_id)
    return handbook


def _edition_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(HandbookEdition.handbook_id), func.count())
        .where(col(HandbookEdition.handbook_id).in_(ids))
        .group_by(col(HandbookEdition.handbook_id))
    )
    return {int(h): int(n) for h, n in rows}


def to_public(session: Session, handbook: Handbook, editions: int | None = None) -> HandbookPublic:
    """Public schema of a handbook."""
    if editions is None:
        editions = _edition_counts(session, [handbook.id or 0]).get(handbook.id or 0, 0)
    return HandbookPublic.model_validate(
        handbook,
        update={
            "selection": Selection(**handbook.selection),
            "shaping": shaping_of(handbook),
            "editions": editions,
        },
    )


def shaping_of(handbook: Handbook) -> Shaping:
    """The hand-made part of a definition (rows saved before it existed hold `{}`)."""
    return Shaping(**(handbook.shaping or {}))


def _check_picked(session: Session, shaping: Shaping) -> None:
    if not shaping.pinned:
        return
    found = set(session.execute(select(col(Entry.id)).where(col(Entry.id).in_(shaping.pinned))))
    missing = [i for i in shaping.pinned if (i,) not in found]
    if missing:
        raise ValidationFailed(
            f"要加入的条目不存在：{missing[:10]} / unknown entry ids in shaping.pinned",
            field="shaping.pinned",
            missing=missing[:10],
        )


def create(session: Session, *, data: HandbookCreate, actor: str) -> Handbook:
    """Save a handbook definition."""
    _check_picked(session, data.shaping)
    handbook = Handbook(
        **data.model_dump(exclude={"selection", "shaping"}),
        selection=data.selection.model_dump(mode="json"),
        shaping=data.shaping.model_dump(mode="json"),
        created_by=actor,
        updated_by=actor,
    )
    session.add(handbook)
    session.flush()
    return handbook


def update(session: Session, *, handbook_id: int, data: HandbookUpdate, actor: str) -> Handbook:
    """Apply a partial update (existing editions keep their frozen definition)."""
    handbook = get(session, handbook_id=handbook_id)
    changes = data.model_dump(exclude_unset=True, exclude={"selection", "shaping"})
    for key, value in changes.items():
        if value is not None:
            setattr(handbook, key, value)
    if data.selection is not None:
        handbook.selection = data.selection.model_dump(mode="json")
    if data.shaping is not None:
        _check_picked(session, data.shaping)
        handbook.shaping = data.shaping.model_dump(mode="json")
    handbook.updated_by = actor
    handbook.updated_at = utcnow()
    session.add(handbook)
    session.flush()
    return handbook


def list_handbooks(session: Session, *, offset: int = 0, limit: int = 50) -> HandbooksPublic:
    """Saved handbooks, newest first."""
    count = session.execute(select(func.count()).select_from(Handbook)).scalar_one()
    rows = list(
        session.execute(
            select(Handbook).order_by(col(Handbook.id).desc()).offset(offset).limit(limit)
        ).scalars()
    )
    editions = _edition_counts(session, [h.id for h in rows if h.id is not None])
    return HandbooksPublic(
        data=[to_public(session, h, editions.get(h.id or 0, 0)) for h in rows], count=count
    )


def current_entries(
    session: Session,
    handbook: Handbook,
    settings: Settings,
    *,
    search: EntrySearch,
    principal: Principal,
) -> list[dict[str, Any]]:
    """The entries the definition selects now (that `principal` may see), capped;
    ValidationFailed when there are none."""
    limit = min(handbook.max_entries, settings.handbooks.max_entries)
    entries = select_entries(
        session,
        Selection(**handbook.selection),
        search=search,
        principal=principal,
        limit=limit,
        shaping=shaping_of(handbook),
    )
    if not entries:
        raise ValidationFailed(NO_ENTRIES, handbook_id=handbook.id)
    return entries


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
    handbook = get(session, handbook_id=handbook_id)
    if handbook.selection.get("status", EntryStatus.published.value) != EntryStatus.published.value:
        # A frozen draft would reach every viewer once its entry is published, unreviewed.
        raise ValidationFailed(
            "only published entries can be frozen into an edition; select status published",
            field="selection.status",
        )
    # An edition is frozen for every reader; each export drops what its reader may not see.
    shaping = shaping_of(handbook)
    # Frozen in reading order, so the edition reads as the preview did at publication.
    entries = document.arrange(
        current_entries(session, handbook, settings, search=search, principal=SYSTEM),
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
    get(session, handbook_id=handbook_id)
    stmt = (
        select(HandbookEdition)
        .where(col(HandbookEdition.handbook_id) == handbook_id)
        .order_by(col(HandbookEdition.number).desc())
    )
    rows = [
        edition_public(session, e, principal=principal) for e in session.execute(stmt).scalars()
    ]
    return EditionsPublic(data=rows, count=len(rows))


def build_document(
    session: Session,
    *,
    handbook_id: int,
    settings: Settings,
    edition: int | None = None,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """The document for a saved handbook: live selection, or a frozen edition's snapshot;
    entries hidden from `principal` are left out of either (auth.policy)."""
    handbook = get(session, handbook_id=handbook_id)
    if edition is None:
        return _live(session, handbook, shaping_of(handbook), settings, search, principal)
    frozen = get_edition(session, handbook_id=handbook_id, number=edition)
    spec = frozen.definition
    hidden = policy.hidden_ids(session, principal, [int(e["id"]) for e in frozen.snapshot])
    return _with_images(
        session,
        principal,
        document.build(
            [e for e in frozen.snapshot if int(e["id"]) not in hidden],
            title=spec["title"],
            subtitle=spec.get("subtitle", ""),
            intro=spec.get("intro", ""),
            grouping=Grouping(spec.get("grouping", "system_module")),
            base_url=settings.public_base_url,
            generated_at=frozen.published_at,
            edition=frozen.number,
            changes=EditionChanges(**frozen.changes),
            order=list(spec.get("order", [])),
            chapter_notes=dict(spec.get("chapter_notes", {})),
            author=site_name(settings),
        ),
    )


def build_adhoc(
    session: Session,
    *,
    data: HandbookCreate,
    settings: Settings,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """A document for an unsaved definition (CLI one-off exports)."""
    handbook = Handbook(
        **data.model_dump(exclude={"selection", "shaping"}),
        selection=data.selection.model_dump(mode="json"),
        shaping=data.shaping.model_dump(mode="json"),
    )
    return _live(session, handbook, data.shaping, settings, search, principal)


def _live(
    session: Session,
    handbook: Handbook,
    shaping: Shaping,
    settings: Settings,
    search: EntrySearch,
    principal: Principal,
) -> document.HandbookDoc:
    """The document for a definition's live selection, shaped by hand."""
    return _with_images(
        session,
        principal,
        document.build(
            current_entries(session, handbook, settings, search=search, principal=principal),
            title=handbook.title,
            subtitle=handbook.subtitle,
            intro=handbook.intro,
            grouping=handbook.grouping,
            base_url=settings.public_base_url,
            generated_at=utcnow(),
            order=shaping.order,
            chapter_notes=shaping.chapter_notes,
            author=site_name(settings),
        ),
    )


def _with_images(
    session: Session, principal: Principal, doc: document.HandbookDoc
) -> document.HandbookDoc:
    """Attach each entry's images (its current live ones, also in a frozen edition)."""
    images = attachments.images_for_export(session, [int(e.id) for e in doc.entries], principal)
    for entry in doc.entries:
        entry.images = images.get(int(entry.id), [])
    return doc


def site_name(settings: Settings) -> str:
    """Who a handbook is from (DOCX/PDF author): the configured site name."""
    return settings.exchange.site_name or "kbsvc 知识库"
