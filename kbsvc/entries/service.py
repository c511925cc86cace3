"""Entry data access: create, read, list, update, delete, tags and links."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, select
from sqlmodel import Session, col

from kbsvc.auth import policy
from kbsvc.auth.models import EntryRestriction, Principal
from kbsvc.entries import changes, versions
from kbsvc.entries.models import (
    EntriesPublic,
    Entry,
    EntryCreate,
    EntryDetail,
    EntryLink,
    EntryPublic,
    EntryStatus,
    EntryTag,
    EntryUpdate,
    LinkKind,
    RevisionRef,
    Tag,
    TicketRef,
)
from kbsvc.exceptions import NotFound
from kbsvc.vocab import mapping as vocab_mapping


def get(session: Session, *, entry_id: int, principal: Principal) -> Entry:
    """The entry, or NotFound when it is missing or hidden from `principal` (see policy)."""
    entry = session.get(Entry, entry_id)
    if entry is None:
        raise NotFound(f"entry {entry_id} not found", entry_id=entry_id)
    return policy.ensure_visible(session, principal, entry)


def resolve(session: Session, *, entry_id: int, principal: Principal) -> Entry:
    """The entry, following merge redirects to the surviving entry."""
    entry = get(session, entry_id=entry_id, principal=principal)
    for _hop in range(20):  # merges repoint chains, so this is one hop in practice
        if entry.merged_into_id is None:
            break
        entry = get(session, entry_id=entry.merged_into_id, principal=principal)
    return entry


def tags_of(session: Session, entry_ids: Sequence[int]) -> dict[int, list[str]]:
    """Tag names per entry id."""
    out: dict[int, list[str]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    rows = session.execute(
        select(col(EntryTag.entry_id), col(Tag.name))
        .join(Tag, col(Tag.id) == col(EntryTag.tag_id))
        .where(col(EntryTag.entry_id).in_(entry_ids))
        .order_by(col(Tag.name))
    )
    for entry_id, name in rows:
        out[entry_id].append(name)
    return out


def links_of(session: Session, entry_id: int) -> list[EntryLink]:
    """Tickets linked to an entry (source and cited)."""
    stmt = select(EntryLink).where(col(EntryLink.entry_id) == entry_id).order_by(col(EntryLink.id))
    return list(session.execute(stmt).scalars())


def to_public(
    session: Session,
    entry: Entry,
    tags: list[str] | None = None,
    restricted: list[str] | None = None,
    pending: RevisionRef | None = None,
) -> EntryPublic:
    """Public schema of an entry (`pending`: its open revision, for editors and up)."""
    assert entry.id is not None
    if tags is None:
        tags = tags_of(session, [entry.id])[entry.id]
    if restricted is None:
        restricted = policy.restrictions_of(session, [entry.id])[entry.id]
    return EntryPublic.model_validate(
        entry,
        update={"tags": tags, "restricted_departments": restricted, "pending_revision": pending},
    )


def to_detail(session: Session, entry: Entry) -> EntryDetail:
    """Entry with its ticket links, citation and feedback counts."""
    from kbsvc.entries.revisions import pending_refs
    from kbsvc.feedback.models import Feedback, FlagStatus, ReviewFlag

    assert entry.id is not None
    base = to_public(session, entry, pending=pending_refs(session, [entry.id]).get(entry.id))
    links = links_of(session, entry.id or 0)
    refs = [TicketRef(source=lk.source, external_id=lk.external_id, kind=lk.kind) for lk in links]
    vote_stmt = (
        select(col(Feedback.helpful), func.count())
        .where(col(Feedback.entry_id) == entry.id)
        .group_by(col(Feedback.helpful))
    )
    votes: dict[bool, int] = {bool(h): int(n) for h, n in session.execute(vote_stmt).all()}
    flags = session.execute(
        select(func.count())
        .select_from(ReviewFlag)
        .where(
            col(ReviewFlag.entry_id) == entry.id,
            col(ReviewFlag.status) == FlagStatus.open,
        )
    ).scalar_one()
    return EntryDetail(
        **base.model_dump(),
        links=refs,
        review_comment=entry.review_comment,
        citation_count=sum(1 for lk in links if lk.kind == LinkKind.cited),
        helpful_count=votes.get(True, 0),
        not_helpful_count=votes.get(False, 0),
        open_flag_count=flags,
        purged_at=entry.purged_at,
        purge_reason=entry.purge_reason,
    )


def set_tags(session: Session, entry_id: int, names: Sequence[str]) -> None:
    """Replace an entry's tags, creating unknown tags."""
    session.execute(sa_delete(EntryTag).where(col(EntryTag.entry_id) == entry_id))
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        tag = session.execute(select(Tag).where(col(Tag.name) == name)).scalar_one_or_none()
        if tag is None:
            tag = Tag(name=name)
            session.add(tag)
            session.flush()
        assert tag.id is not None  # loaded, or assigned by the flush above
        session.add(EntryTag(entry_id=entry_id, tag_id=tag.id))
    session.flush()


def create(
    session: Session,
    *,
    data: EntryCreate,
    actor: str,
    status: EntryStatus = EntryStatus.draft,
    note: str = "created",
) -> Entry:
    """Create an entry with its tags; stores version 1 and records a change."""
    entry = Entry(
        **vocab_mapping.canonical_fields(
            session, data.model_dump(exclude={"tags", "restricted_departments"})
        ),
        status=status,
        created_by=actor,
        updated_by=actor,
    )
    session.add(entry)
    session.flush()
    set_tags(session, entry.id or 0, data.tags)
    policy.set_restrictions(session, entry.id or 0, data.restricted_departments)
    versions.record(session, entry, actor=actor, note=note)
    session.flush()
    return entry


def update(
    session: Session,
    *,
    entry_id: int,
    data: EntryUpdate,
    actor: str,
    base_version: int | None = None,
    principal: Principal,
) -> Entry:
    """Apply a partial update based on `base_version`; stale → Conflict, nothing written."""
    entry = get(session, entry_id=entry_id, principal=principal)
    base = base_version if base_version is not None else data.base_version
    versions.bump(session, entry, base_version=base)
    fields = data.model_dump(
        exclude_unset=True,
        exclude={"tags", "base_version", "note", "restricted_departments", "publish"},
    )
    for key, value in vocab_mapping.canonical_fields(session, fields).items():
        if value is not None:  # an explicit null means "leave as is": the columns are NOT NULL
            setattr(entry, key, value)
    if data.tags is not None:
        set_tags(session, entry_id, data.tags)
    if data.restricted_departments is not None:
        policy.set_restrictions(session, entry_id, data.restricted_departments)
    versions.record(session, entry, actor=actor, note=data.note or "edited")
    session.flush()
    return entry


def delete(session: Session, *, entry_id: int, actor: str, principal: Principal) -> None:
    """Delete an entry (links and tags cascade); the indexer sees a delete change."""
    entry = get(session, entry_id=entry_id, principal=principal)
    session.execute(sa_delete(EntryTag).where(col(EntryTag.entry_id) == entry_id))
    session.execute(sa_delete(EntryRestriction).where(col(EntryRestriction.entry_id) == entry_id))
    session.execute(sa_delete(EntryLink).where(col(EntryLink.entry_id) == entry_id))
    session.delete(entry)
    changes.record_change(session, entry_id, op="delete")
    session.flush()


def link_ticket(
    session: Session, *, entry_id: int, source: str, external_id: str, kind: LinkKind, actor: str
) -> tuple[EntryLink, bool]:
    """Link a ticket to an entry; idempotent. Returns (link, created)."""
    stmt = select(EntryLink).where(
        col(EntryLink.entry_id) == entry_id,
        col(EntryLink.source) == source,
        col(EntryLink.external_id) == external_id,
        col(EntryLink.kind) == kind,
    )
    existing = session.execute(stmt).scalar_one_or_none()
    if existing is not None:
        return existing, False
    link = EntryLink(
        entry_id=entry_id, source=source, external_id=external_id, kind=kind, created_by=actor
    )
    session.add(link)
    session.flush()
    # The entry is indexed with its linked tickets' text, so the index must see the change.
    changes.touch(session, entry_id)
    return link, True


def list_entries(
    session: Session,
    *,
    system: str | None = None,
    department: str | None = None,
    tag: str | None = None,
    status: EntryStatus | None = None,
    category: str | None = None,
    created_by: str | None = None,
    sort: str = "recent",
    offset: int = 0,
    limit: int = 50,
    principal: Principal,
) -> EntriesPublic:
    """Filtered, paginated entries that `principal` may see; `sort` is "recent" (last changed
    first) or "reuse" (most cited first)."""
    stmt = select(Entry).where(policy.visible_filter(principal))
    # Filters accept any spelling the vocabulary knows (HIS系统 lists HIS entries).
    system = vocab_mapping.canonical(session, "system", system or "") or None
    department = vocab_mapping.canonical(session, "department", department or "") or None
    category = vocab_mapping.canonical(session, "category", category or "") or None
    if category:
        stmt = stmt.where(col(Entry.category) == category)
    if created_by:
        stmt = stmt.where(col(Entry.created_by) == created_by)
    if system:
        stmt = stmt.where(col(Entry.system) == system)
    if department:
        stmt = stmt.where(col(Entry.department) == department)
    if status:
        stmt = stmt.where(col(Entry.status) == status)
    if tag:
        stmt = stmt.where(
            col(Entry.id).in_(
                select(col(EntryTag.entry_id))
                .join(Tag, col(Tag.id) == col(EntryTag.tag_id))
                .where(col(Tag.name) == tag)
            )
        )
    count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    if sort == "reuse":
        cited = (
            select(func.count())
            .select_from(EntryLink)
            .where(col(EntryLink.entry_id) == col(Entry.id), col(EntryLink.kind) == LinkKind.cited)
            .scalar_subquery()
        )
        stmt = stmt.order_by(cited.desc(), col(Entry.updated_at).desc(), col(Entry.id).desc())
    else:
        stmt = stmt.order_by(col(Entry.updated_at).desc(), col(Entry.id).desc())
    rows = list(session.execute(stmt.offset(offset).limit(limit)).scalars())
    ids = [e.id for e in rows if e.id is not None]
    tags = tags_of(session, ids)
    restricted = policy.restrictions_of(session, ids)
    data = [to_public(session, e, tags[e.id or 0], restricted[e.id or 0]) for e in rows]
    return EntriesPublic(data=data, count=count)
