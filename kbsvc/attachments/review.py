"""Attachments in the review loop: a published entry's attachment list changes via its revision.

A revision's `content["attachments"]` (present once an attachment was added or removed) is the
list of attachment ids the entry will show when the revision is published. Until then readers
see the `live` rows only; added rows wait as `pending`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from kbsvc.attachments.models import Attachment, AttachmentState
from kbsvc.entries.models import EntryRevision

S = AttachmentState
KEY = "attachments"


def current(session: Session, entry_id: int) -> list[Attachment]:
    """Live and pending attachments of an entry, oldest first."""
    stmt = (
        select(Attachment)
        .where(
            col(Attachment.entry_id) == entry_id,
            col(Attachment.state).in_([S.live.value, S.pending.value]),
        )
        .order_by(col(Attachment.id))
    )
    return list(session.execute(stmt).scalars())


def live_ids(session: Session, entry_id: int) -> list[int]:
    return [a.id for a in current(session, entry_id) if a.state == S.live and a.id is not None]


def proposed_ids(session: Session, rev: EntryRevision | None, entry_id: int) -> list[int]:
    """The ids the entry will show once `rev` is published (live ids when it changes none)."""
    if rev is not None and KEY in rev.content:
        return [int(i) for i in rev.content[KEY]]
    return live_ids(session, entry_id)


def set_proposed(rev: EntryRevision, ids: list[int]) -> None:
    content: dict[str, Any] = dict(rev.content)  # a new dict, so the JSON column is seen changed
    content[KEY] = ids
    rev.content = content


def _label(a: Attachment) -> str:
    return f"{a.filename}（附件 #{a.id}）"


def diff(session: Session, entry_id: int, rev: EntryRevision) -> tuple[list[str], list[str]] | None:
    """(before, after) attachment labels when the revision changes them, else None."""
    if KEY not in rev.content:
        return None
    rows = {a.id: a for a in current(session, entry_id)}
    before = live_ids(session, entry_id)
    after = [int(i) for i in rev.content[KEY]]
    if sorted(before) == sorted(after):
        return None
    return (
        [_label(rows[i]) for i in before if i in rows],
        [_label(rows[i]) for i in after if i in rows],
    )


def publish(session: Session, entry_id: int, rev: EntryRevision) -> None:
    """Apply the revision's attachment list: listed rows go live, the others leave."""
    if KEY not in rev.content:
        return
    keep = {int(i) for i in rev.content[KEY]}
    for a in current(session, entry_id):
        if a.id in keep:
            a.state = S.live
        else:
            a.state = S.removed if a.state == S.live else S.discarded
        session.add(a)
    session.flush()


def discard(session: Session, entry_id: int) -> None:
    """The revision is dropped: attachments that only it carried are discarded."""
    for a in current(session, entry_id):
        if a.state == S.pending:
            a.state = S.discarded
            session.add(a)
    session.flush()


def move(session: Session, loser_id: int, survivor_id: int) -> int:
    """A merge carries the loser's live attachments over (a file both have stays once)."""
    have = {a.sha256 for a in current(session, survivor_id)}
    moved = 0
    for a in current(session, loser_id):
        if a.state != S.live or a.sha256 in have:
            continue
        a.entry_id = survivor_id
        have.add(a.sha256)
        session.add(a)
        moved += 1
    session.flush()
    return moved


def purge(session: Session, entry_id: int) -> None:
    """An admin purge destroys the pictures with the text (they may show the patient data)."""
    session.execute(delete(Attachment).where(col(Attachment.entry_id) == entry_id))
    session.flush()
