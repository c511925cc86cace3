"""`kbsvc demo`: import the demo tickets, capture one entry per fault family, add a demo admin."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlmodel import Session, col

from kbsvc.auth import service as auth
from kbsvc.auth.models import SYSTEM, Role, User
from kbsvc.config import PrivacySettings, Settings
from kbsvc.demo import DEMO_SOURCE, data_files
from kbsvc.entries import service as entries
from kbsvc.entries.capture import capture_ticket, find_source_entry
from kbsvc.entries.models import EntryLink, EntryStatus, LinkKind
from kbsvc.intake.readers import read_table
from kbsvc.intake.service import import_table
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket
from kbsvc.vocab import service as vocab_service

ACTOR = "demo"
ADMIN_USER = "admin"
ADMIN_PASSWORD = "kbsvc-demo"
KEY_NAME = "demo-admin"
KEY_FILE = "demo-admin.key"
# Every 15th family stays a draft and every 15th (offset) waits for review, so the review
# queue and the draft list have something in them; the rest is published.
_CYCLE, _DRAFT_AT, _REVIEW_AT = 15, 4, 9


@dataclass
class DemoReport:
    tickets: int = 0
    tickets_new: int = 0
    entries_new: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    cited_new: int = 0
    invalid_rows: int = 0
    user_created: bool = False
    api_key: str = ""
    key_created: bool = False


def family_status(index: int) -> EntryStatus:
    """Status of the entry captured for the index-th fault family."""
    if index % _CYCLE == _DRAFT_AT:
        return EntryStatus.draft
    if index % _CYCLE == _REVIEW_AT:
        return EntryStatus.in_review
    return EntryStatus.published


def reset(session: Session) -> None:
    """Remove the demo tickets, the entries captured from them and their links."""
    links = (
        session.execute(select(EntryLink).where(col(EntryLink.source) == DEMO_SOURCE))
        .scalars()
        .all()
    )
    owned = {lk.entry_id for lk in links if lk.kind == LinkKind.source}
    for entry_id in sorted(owned):
        entries.delete(session, entry_id=entry_id, actor=ACTOR, principal=SYSTEM)
    session.execute(delete(EntryLink).where(col(EntryLink.source) == DEMO_SOURCE))
    session.execute(delete(Ticket).where(col(Ticket.source) == DEMO_SOURCE))
    session.commit()


def _families(rows: list[dict[str, object]]) -> dict[str, list[str]]:
    """fault_key → ticket ids in file order (a ticket without a key is its own family)."""
    families: dict[str, list[str]] = {}
    for values in rows:
        ext = str(values.get("external_id") or "")
        key = str(values.get("fault_key") or "") or f"single:{ext}"
        if ext:
            families.setdefault(key, []).append(ext)
    return families


def load(
    session: Session,
    *,
    privacy: PrivacySettings,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Import the demo tickets and capture entries; running it again adds nothing."""
    report = DemoReport()
    # The vocabulary first, so imported tickets and captured entries carry canonical names.
    vocab_service.seed_defaults(session)
    rows: list[dict[str, object]] = []
    for path in data_files():
        table = read_table(path.read_bytes(), path.name, max_rows=100_000)
        rows.extend(r.values for r in table.rows)
        result = import_table(
            session, table, source=DEMO_SOURCE, actor=ACTOR, progress=progress, privacy=privacy
        )
        report.tickets += result.rows - result.invalid
        report.tickets_new += result.imported
        report.invalid_rows += result.invalid
    for index, ids in enumerate(_families(rows).values()):
        family = [
            t
            for t in (tickets.get_by_key(session, source=DEMO_SOURCE, external_id=e) for e in ids)
            if t is not None
        ]
        solved = [t for t in family if t.solution.strip()]
        if not solved:
            continue
        # KCS reuse: the first solved ticket is the source, later ones of the family cite it.
        entry, outcome = capture_ticket(
            session,
            solved[0],
            actor=ACTOR,
            status=family_status(index),
            refresh=True,
            privacy=privacy,
        )
        report.entries_new += outcome == "created"
        report.statuses[entry.status] += 1
        for ticket in family:
            if ticket is solved[0] or find_source_entry(
                session, source=DEMO_SOURCE, external_id=ticket.external_id
            ):
                continue
            _link, created = entries.link_ticket(
                session,
                entry_id=entry.id or 0,
                source=DEMO_SOURCE,
                external_id=ticket.external_id,
                kind=LinkKind.cited,
                actor=ACTOR,
            )
            report.cited_new += created
        session.commit()
    return report


def ensure_admin(session: Session, settings: Settings, report: DemoReport) -> None:
    """The demo admin user and an admin API key (kept in the data directory, mode 0600)."""
    exists = session.execute(
        select(User).where(col(User.username) == ADMIN_USER)
    ).scalar_one_or_none()
    if exists is None:
        auth.create_user(
            session,
            username=ADMIN_USER,
            role=Role.admin,
            password=ADMIN_PASSWORD,
            display_name="演示管理员",
        )
        report.user_created = True
    key_path = Path(settings.data_dir) / KEY_FILE
    if key_path.is_file():
        key = key_path.read_text(encoding="utf-8").strip()
        principal = auth.principal_for_key(session, key)
        if principal is not None and principal.role is Role.admin:
            report.api_key = key
            return
    _row, key = auth.create_api_key(session, name=KEY_NAME, role=Role.admin)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    report.api_key, report.key_created = key, True
