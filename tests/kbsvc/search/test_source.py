"""The database change source: sequence, ordered changes, current documents, protocol shape."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.source import Change, ChangeSource
from kbsvc.auth.models import SYSTEM
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, EntryUpdate, LinkKind
from kbsvc.search.source import DbChangeSource
from tests.factories import make_entry, make_ticket


def test_sequence_and_changes_follow_writes_in_order(engine: Engine, session: Session) -> None:
    source: ChangeSource = DbChangeSource(engine)
    assert source.latest_seq() == 0 and list(source.changes_since(0)) == []
    a = make_entry(session, title="收费处打印机卡纸")
    b = make_entry(session, title="PACS影像调阅很慢", status=EntryStatus.draft)
    assert a.id is not None and b.id is not None
    entries.update(
        session, entry_id=a.id, data=EntryUpdate(symptom="发票卡纸"), actor="t", principal=SYSTEM
    )
    session.commit()
    entries.delete(session, entry_id=b.id, actor="t", principal=SYSTEM)
    session.commit()
    changes = list(source.changes_since(0))
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert changes[-1] == Change(source.latest_seq(), b.id, "delete")
    assert {c.entry_id for c in changes if c.op == "upsert"} == {a.id, b.id}
    later = list(source.changes_since(changes[1].seq))
    assert later == changes[2:]


def test_load_docs_gives_current_state_and_drops_deleted_ids(
    engine: Engine, session: Session
) -> None:
    source = DbChangeSource(engine)
    kept = make_entry(session, title="读卡器端口配置错误", tags=["读卡器", "医保"])
    gone = make_entry(session, title="将被删除的条目")
    assert kept.id is not None and gone.id is not None
    make_ticket(session, external_id="T-SRC-1", title="诊室刷卡没反应", symptom="就诊卡刷不了")
    entries.link_ticket(
        session,
        entry_id=kept.id,
        source="test",
        external_id="T-SRC-1",
        kind=LinkKind.cited,
        actor="t",
    )
    session.commit()
    entries.delete(session, entry_id=gone.id, actor="t", principal=SYSTEM)
    session.commit()
    docs = source.load_docs([gone.id, kept.id])
    assert [d.id for d in docs] == [kept.id]
    doc = docs[0]
    assert doc.title == "读卡器端口配置错误" and doc.status == "published"
    assert set(doc.tags) == {"读卡器", "医保"}
    assert doc.sources == [("test", "T-SRC-1")]
    assert doc.ticket_texts and "就诊卡刷不了" in doc.ticket_texts[0]
    assert [d.id for d in source.load_docs()] == [kept.id]
