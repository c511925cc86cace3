"""Tag maintenance: list with usage counts, rename, merge several tags into one."""

from __future__ import annotations

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel, col

from kbsvc.auth import policy
from kbsvc.auth.models import Principal
from kbsvc.entries import changes
from kbsvc.entries.models import Entry, EntryTag, Tag
from kbsvc.exceptions import Conflict, NotFound, ValidationFailed


class TagPublic(SQLModel):
    id: int
    name: str
    entry_count: int = 0


class TagsPublic(SQLModel):
    data: list[TagPublic]
    count: int


class TagRename(SQLModel):
    name: str = Field(min_length=1, max_length=64)


class TagMerge(SQLModel):
    """Fold every tag in `sources` into `target` (created if missing)."""

    sources: list[str] = Field(min_length=1, max_length=100)
    target: str = Field(min_length=1, max_length=64)


def _by_name(session: Session, name: str) -> Tag | None:
    return session.execute(select(Tag).where(col(Tag.name) == name)).scalar_one_or_none()


def _entries_with(session: Session, tag_id: int) -> list[int]:
    stmt = select(col(EntryTag.entry_id)).where(col(EntryTag.tag_id) == tag_id)
    return list(session.execute(stmt).scalars())


def list_tags(session: Session, *, principal: Principal, q: str | None = None) -> TagsPublic:
    """Tags on entries `principal` may see, with those entries counted, most used first.

    Admins also see unused tags; anyone else sees a tag only through an entry they may open,
    so a hidden entry's tags (and how many there are) do not leak (auth.policy).
    """
    if policy.sees_all_departments(principal) and policy.sees_unpublished(principal):
        used = func.count(col(EntryTag.entry_id))
        stmt = select(col(Tag.id), col(Tag.name), used).outerjoin(
            EntryTag, col(EntryTag.tag_id) == col(Tag.id)
        )
    else:
        used = func.count(col(Entry.id))
        stmt = (
            select(col(Tag.id), col(Tag.name), used)
            .join(EntryTag, col(EntryTag.tag_id) == col(Tag.id))
            .join(Entry, col(Entry.id) == col(EntryTag.entry_id))
            .where(policy.visible_filter(principal))
        )
    stmt = stmt.group_by(col(Tag.id), col(Tag.name)).order_by(used.desc(), col(Tag.name))
    if q:
        stmt = stmt.where(col(Tag.name).contains(q))
    data = [TagPublic(id=i, name=n, entry_count=c) for i, n, c in session.execute(stmt).all()]
    return TagsPublic(data=data, count=len(data))


def rename(session: Session, *, name: str, new_name: str) -> TagPublic:
    """Rename a tag; renaming onto an existing tag is a Conflict (merge instead)."""
    new_name = new_name.strip()
    if not new_name:
        raise ValidationFailed("the new tag name is empty")
    tag = _by_name(session, name)
    if tag is None:
        raise NotFound(f"tag {name!r} not found", tag=name)
    if new_name != name and _by_name(session, new_name) is not None:
        raise Conflict(
            f"tag {new_name!r} already exists; merge {name!r} into it instead",
            tag=name,
            existing=new_name,
        )
    tag.name = new_name
    session.add(tag)
    entry_ids = _entries_with(session, tag.id or 0)
    for entry_id in entry_ids:
        changes.touch(session, entry_id)  # tags are indexed with the entry
    session.flush()
    return TagPublic(id=tag.id or 0, name=tag.name, entry_count=len(entry_ids))


def merge(session: Session, *, sources: list[str], target: str) -> TagPublic:
    """Move every entry from the source tags to `target` and delete the sources."""
    target = target.strip()
    if not target:
        raise ValidationFailed("the target tag name is empty")
    keep = _by_name(session, target)
    if keep is None:
        keep = Tag(name=target)
        session.add(keep)
        session.flush()
    touched: set[int] = set()
    for name in dict.fromkeys(s.strip() for s in sources):
        tag = _by_name(session, name)
        if tag is None or tag.id == keep.id:
            continue
        for entry_id in _entries_with(session, tag.id or 0):
            touched.add(entry_id)
            if session.get(EntryTag, (entry_id, keep.id)) is None:
                session.add(EntryTag(entry_id=entry_id, tag_id=keep.id or 0))
        session.flush()
        session.execute(sa_delete(EntryTag).where(col(EntryTag.tag_id) == tag.id))
        session.delete(tag)
        session.flush()
    for entry_id in sorted(touched):
        changes.touch(session, entry_id)
    session.flush()
    return TagPublic(
        id=keep.id or 0, name=keep.name, entry_count=len(_entries_with(session, keep.id or 0))
    )
