"""A linked ticket's new or changed text reaches the index through the change sequence."""

from __future__ import annotations

from sqlmodel import Session

from kbsvc.entries import changes
from kbsvc.entries import service as entries
from kbsvc.entries.models import LinkKind
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import TicketIn
from tests.factories import make_entry, ticket_data


def test_import_of_cited_ticket_touches_entry(session: Session) -> None:
    entry = make_entry(session)
    entries.link_ticket(
        session, entry_id=entry.id, source="test", external_id="C-1", kind=LinkKind.cited, actor="t"
    )
    session.commit()
    before = changes.latest_seq(session)

    tickets.upsert_one(session, TicketIn(**ticket_data(external_id="C-1")))
    session.commit()
    touched = [c.entry_id for c in changes.changes_since(session, before)]
    assert touched == [entry.id]

    # Same content again: nothing to re-index.
    mid = changes.latest_seq(session)
    tickets.upsert_one(session, TicketIn(**ticket_data(external_id="C-1")))
    session.commit()
    assert changes.changes_since(session, mid) == []

    tickets.upsert_one(session, TicketIn(**ticket_data(external_id="C-1", symptom="新的说法")))
    session.commit()
    assert [c.entry_id for c in changes.changes_since(session, mid)] == [entry.id]
