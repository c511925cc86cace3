"""Merging two entries keeps every link, citation, tag, vote and flag; history stays."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlmodel import Session

from kbsvc.auth.models import SYSTEM
from kbsvc.entries import citations, merge, service, versions
from kbsvc.entries.models import EntryLink, EntryStatus, LinkKind
from kbsvc.exceptions import Conflict, ValidationFailed
from kbsvc.feedback import service as feedback
from kbsvc.feedback.models import FeedbackIn, ReviewFlag
from tests.factories import make_entry


def _links(session: Session, entry_id: int) -> set[tuple[str, str, str]]:
    rows = session.execute(select(EntryLink).where(EntryLink.entry_id == entry_id)).scalars()
    return {(lk.source, lk.external_id, str(lk.kind)) for lk in rows}


def test_merge_moves_everything(session: Session) -> None:
    keep = make_entry(session, tags=["CA证书", "登录"], solution="更新证书")
    lose = make_entry(session, tags=["登录", "UKey"], solution="重新插拔UKey", title="CA登录失败")
    for entry, ext in ((keep, "T1"), (lose, "T2")):
        service.link_ticket(
            session,
            entry_id=entry.id or 0,
            source="itsm",
            external_id=ext,
            kind=LinkKind.source,
            actor="t",
        )
    for ext in ("C1", "C2"):
        citations.cite(
            session,
            entry_id=lose.id or 0,
            source="itsm",
            external_id=ext,
            actor="w",
            principal=SYSTEM,
        )
    citations.cite(
        session, entry_id=keep.id or 0, source="itsm", external_id="C1", actor="w", principal=SYSTEM
    )
    feedback.give(
        session,
        entry_id=lose.id or 0,
        actor="w",
        data=FeedbackIn(helpful=False, comment="步骤不全", source="itsm", external_id="C2"),
        principal=SYSTEM,
    )
    feedback.give(
        session, entry_id=lose.id or 0, actor="u", data=FeedbackIn(helpful=True), principal=SYSTEM
    )
    feedback.give(
        session, entry_id=keep.id or 0, actor="u", data=FeedbackIn(helpful=False), principal=SYSTEM
    )
    session.commit()

    survivor, loser, moved = merge.merge(
        session,
        survivor_id=keep.id or 0,
        loser_id=lose.id or 0,
        actor="rev",
        append_solution=True,
        principal=SYSTEM,
    )
    assert _links(session, keep.id or 0) == {
        ("itsm", "T1", "source"),
        ("itsm", "T2", "source"),
        ("itsm", "C1", "cited"),
        ("itsm", "C2", "cited"),
    }
    assert _links(session, lose.id or 0) == set()
    assert moved == {"links": 2, "feedback": 1, "flags": 1, "tags": 1, "attachments": 0}
    assert service.tags_of(session, [keep.id or 0])[keep.id or 0] == ["CA证书", "UKey", "登录"]
    assert "重新插拔UKey" in survivor.solution and survivor.solution.startswith("更新证书")
    assert loser.status == EntryStatus.archived and loser.merged_into_id == keep.id
    detail = service.to_detail(session, survivor)
    assert detail.citation_count == 2
    # The caller "u" voted on both: the newer vote (not helpful, on the survivor) is kept.
    assert (detail.helpful_count, detail.not_helpful_count) == (0, 2)
    flag = session.execute(select(ReviewFlag)).scalar_one()
    assert flag.entry_id == keep.id and flag.feedback_id is not None
    keep_history = versions.list_versions(session, entry_id=keep.id or 0).data
    lose_history = versions.list_versions(session, entry_id=lose.id or 0).data
    assert keep_history[0].note.startswith(f"merged entry {lose.id} into this entry")
    assert [v.note for v in lose_history] == [f"merged into entry {keep.id}", "created"]
    assert service.resolve(session, entry_id=lose.id or 0, principal=SYSTEM).id == keep.id
    # A later citation of the old id lands on the survivor.
    cited, created = citations.cite(
        session, entry_id=lose.id or 0, source="itsm", external_id="C3", actor="w", principal=SYSTEM
    )
    assert cited.entry_id == keep.id and created


def test_merge_guards_and_chains(session: Session) -> None:
    a, b, c = (make_entry(session, title=t) for t in ("甲", "乙", "丙"))
    with pytest.raises(ValidationFailed):
        merge.merge(session, survivor_id=a.id or 0, loser_id=a.id or 0, actor="r", principal=SYSTEM)
    merge.merge(session, survivor_id=b.id or 0, loser_id=a.id or 0, actor="r", principal=SYSTEM)
    with pytest.raises(Conflict):
        merge.merge(session, survivor_id=a.id or 0, loser_id=c.id or 0, actor="r", principal=SYSTEM)
    merge.merge(session, survivor_id=c.id or 0, loser_id=b.id or 0, actor="r", principal=SYSTEM)
    session.refresh(a)
    assert a.merged_into_id == c.id  # the redirect chain was flattened
