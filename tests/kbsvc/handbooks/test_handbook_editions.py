"""Editions freeze entry versions; the next edition opens with what changed."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from indexer.engine import SearchEngine
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import changes
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryStatus, EntryUpdate
from kbsvc.exceptions import NotFound, ValidationFailed
from kbsvc.handbooks import assemble, editions, service
from kbsvc.handbooks.models import HandbookCreate, HandbookUpdate, Selection
from kbsvc.handbooks.render import docx, markdown
from tests.factories import make_entry


def create_his(session: Session) -> int:
    data = HandbookCreate(title="HIS故障手册", selection=Selection(systems=["HIS"]))
    return service.create(session, data=data, actor="t").id or 0


def move_kb(session: Session, ids: dict[str, int]) -> int:
    """Add one HIS entry, update one, archive one; returns the new entry's id."""
    added = make_entry(session, title="新增：自助机挂号失败", module="号源管理", category="配置").id
    entries.update(
        session,
        entry_id=ids["slow"],
        data=EntryUpdate(solution="新处理方法"),
        actor="t",
        principal=SYSTEM,
    )
    archived = entries.get(session, entry_id=ids["invoice"], principal=SYSTEM)
    archived.status = EntryStatus.archived
    changes.record_change(session, archived)
    session.commit()
    return added or 0


def test_second_edition_lists_added_updated_removed(
    session: Session, settings: Settings, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    hb = create_his(session)
    first = editions.publish_edition(
        session, handbook_id=hb, actor="t", settings=settings, search=search
    )
    assert first.number == 1 and len(first.snapshot) == 8
    assert len(first.changes["added"]) == 8
    added = move_kb(session, kb_ids)
    second = editions.publish_edition(
        session, handbook_id=hb, actor="t", settings=settings, search=search
    )
    ch = editions.edition_public(session, second, principal=SYSTEM).changes
    assert second.number == 2
    assert [c.id for c in ch.added] == [added]
    assert [(c.id, c.previous_version, c.version) for c in ch.updated] == [(kb_ids["slow"], 1, 2)]
    assert [(c.id, c.title) for c in ch.removed] == [
        (kb_ids["invoice"], "电子发票打印提示模板不存在")
    ]

    doc = assemble.build_document(
        session, handbook_id=hb, settings=settings, edition=2, search=search, principal=SYSTEM
    )
    text = markdown.render(doc)
    changes_at, toc_at = text.index("## 本版变更"), text.index("## 目录")
    assert changes_at < toc_at < text.index("# 第1章")
    section = text[changes_at:toc_at]
    assert "新增：自助机挂号失败" in section and "（v1 → v2）" in section
    assert "电子发票打印提示模板不存在" in section
    assert "第2版" in text

    listed = editions.list_editions(session, handbook_id=hb, principal=SYSTEM)
    assert [e.number for e in listed.data] == [2, 1] and listed.data[0].entry_count == 8


def test_old_edition_renders_from_its_snapshot(
    session: Session, settings: Settings, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    hb = create_his(session)
    editions.publish_edition(session, handbook_id=hb, actor="t", settings=settings, search=search)
    move_kb(session, kb_ids)
    service.update(session, handbook_id=hb, data=HandbookUpdate(title="改名后的手册"), actor="t")
    old = markdown.render(
        assemble.build_document(
            session, handbook_id=hb, settings=settings, edition=1, search=search, principal=SYSTEM
        )
    )
    assert "# HIS故障手册" in old and "电子发票打印提示模板不存在" in old
    assert "新处理方法" not in old and "自助机挂号失败" not in old and "本版变更" not in old
    live = markdown.render(
        assemble.build_document(
            session, handbook_id=hb, settings=settings, search=search, principal=SYSTEM
        )
    )
    assert "# 改名后的手册" in live and "新处理方法" in live
    assert "电子发票打印提示模板不存在" not in live


def test_second_edition_docx_opens_with_changes(
    session: Session, settings: Settings, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    import io

    from docx import Document

    hb = create_his(session)
    editions.publish_edition(session, handbook_id=hb, actor="t", settings=settings, search=search)
    move_kb(session, kb_ids)
    editions.publish_edition(session, handbook_id=hb, actor="t", settings=settings, search=search)
    doc = assemble.build_document(
        session, handbook_id=hb, settings=settings, edition=2, search=search, principal=SYSTEM
    )
    document = Document(io.BytesIO(docx.render(doc, cfg=settings.handbooks)))
    h1 = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert h1[0] == "本版变更"
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 2"][:3] == [
        "新增（1）",
        "更新（1）",
        "移除（1）",
    ]


def test_edition_errors(session: Session, settings: Settings, search: SearchEngine) -> None:
    with pytest.raises(NotFound):
        editions.publish_edition(
            session, handbook_id=999, actor="t", settings=settings, search=search
        )
    hb = create_his(session)  # the KB is empty
    with pytest.raises(ValidationFailed):
        editions.publish_edition(
            session, handbook_id=hb, actor="t", settings=settings, search=search
        )
    with pytest.raises(NotFound):
        assemble.build_document(
            session, handbook_id=hb, settings=settings, edition=3, search=search, principal=SYSTEM
        )
