"""Handbook definitions: create, update, list, and the entries a definition selects now."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.auth.models import Principal
from kbsvc.config import Settings
from kbsvc.entries.models import Entry
from kbsvc.exceptions import NotFound, ValidationFailed
from kbsvc.handbooks.models import (
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


def site_name(settings: Settings) -> str:
    """Who a handbook is from (DOCX/PDF author): the configured site name."""
    return settings.exchange.site_name or "kbsvc 知识库"
