"""The outbox: written with the event, retried with backoff, claimed once, scheduled once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kbsvc.auth import service as auth_service
from kbsvc.auth.models import SYSTEM, Role
from kbsvc.config import Settings
from kbsvc.entries import workflow
from kbsvc.entries.models import EntryStatus
from kbsvc.feedback import service as feedback
from kbsvc.feedback.models import FeedbackIn
from kbsvc.notify import schedule, service
from kbsvc.notify.models import DeliveryStatus, EventType, OutboxDelivery
from kbsvc.notify.worker import OutboxWorker, backoff
from kbsvc.timeutil import LOCAL_TZ, utcnow
from tests.cli import run_kbsvc
from tests.factories import make_entry
from tests.kbsvc.notify.conftest import add_channel, vendor_channel

ALL = [e.value for e in EventType]


def _rows(session: Session) -> list[OutboxDelivery]:
    session.expire_all()
    return list(session.exec(select(OutboxDelivery).order_by(OutboxDelivery.id)).all())  # type: ignore[arg-type]


def test_workflow_events_are_written_with_the_move(session: Session) -> None:
    add_channel(session, "hook", "webhook", ALL, url="http://127.0.0.1:9/x")
    add_channel(session, "mail", "email", ["entry.rejected"], audience=True)
    auth_service.create_user(
        session, username="wang", role=Role.editor, password="pw-123456789"
    ).email = "wang@hospital.cn"
    session.commit()
    entry = make_entry(session, status=EntryStatus.draft)
    entry.created_by = "user:wang"
    session.commit()
    workflow.transition(
        session, entry_id=entry.id or 0, action="submit", actor="user:wang", principal=SYSTEM
    )
    workflow.transition(
        session,
        entry_id=entry.id or 0,
        action="reject",
        actor="user:li",
        note="步骤缺少截图",
        principal=SYSTEM,
    )
    rows = _rows(session)
    assert [(r.event, r.delivery_key.split("@")[0]) for r in rows] == [
        ("entry.submitted", f"entry.submitted:{entry.id}:v2"),
        ("entry.rejected", f"entry.rejected:{entry.id}:v3"),
        ("entry.rejected", f"entry.rejected:{entry.id}:v3"),
    ]
    assert rows[0].payload["title"] == f"待审核：{entry.title}"
    mail = next(r for r in rows if "to" in r.payload)
    assert mail.payload["to"] == ["wang@hospital.cn"]
    assert "步骤缺少截图" in mail.payload["text"]


def test_rolled_back_event_leaves_no_delivery(session: Session) -> None:
    add_channel(session, "hook", "webhook", ALL, url="http://127.0.0.1:9/x")
    entry = make_entry(session, status=EntryStatus.in_review)
    try:
        workflow.transition(
            session, entry_id=entry.id or 0, action="reject", actor="u", note=" ", principal=SYSTEM
        )
    except Exception:
        session.rollback()
    service.emit(
        session,
        EventType.flag_opened,
        "flag.opened:99",
        {"entry_id": 1, "title": "x", "reason": "manual", "comment": ""},
    )
    session.rollback()
    assert _rows(session) == []


def test_feedback_flag_enqueues_flag_opened(session: Session) -> None:
    add_channel(session, "hook", "webhook", ["flag.opened"], url="http://127.0.0.1:9/x")
    entry = make_entry(session)
    feedback.give(
        session,
        entry_id=entry.id or 0,
        data=FeedbackIn(helpful=False, comment="按步骤操作后仍报错"),
        actor="u",
        principal=SYSTEM,
    )
    (row,) = _rows(session)
    assert row.event == "flag.opened" and "按步骤操作后仍报错" in row.payload["text"]


def test_retries_back_off_then_give_up_and_admin_retry(
    receiver: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    settings.notify.max_attempts = 3
    rx = receiver("webhook", fail_first=3)
    vendor_channel(session, rx, ALL)
    service.emit(
        session,
        EventType.flag_opened,
        "k1",
        {"entry_id": 1, "title": "t", "reason": "manual", "comment": ""},
    )
    session.commit()
    worker, now = OutboxWorker(settings, engine), utcnow()
    for attempt in (1, 2, 3):
        assert worker.run_once(now) == 1
        assert worker.run_once(now) == 0  # not due again until the backoff has passed
        now += backoff(attempt, settings.notify.backoff_base_s, settings.notify.backoff_max_s)
    (row,) = _rows(session)
    assert row.status == DeliveryStatus.dead and row.attempts == 3 and "503" in row.last_error
    assert backoff(1, 30, 3600) == timedelta(seconds=30)
    assert backoff(2, 30, 3600) == timedelta(seconds=60)
    assert backoff(20, 30, 3600) == timedelta(seconds=3600)
    service.retry(session, delivery_id=row.id or 0)
    session.commit()
    assert worker.run_once(utcnow()) == 1
    assert _rows(session)[0].status == DeliveryStatus.sent and len(rx.received) == 1


def test_two_workers_never_send_one_row_twice(
    receiver: Any, session: Session, engine: Engine, settings: Settings
) -> None:
    rx = receiver("webhook", delay_s=0.01)
    vendor_channel(session, rx, ALL)
    for i in range(40):
        data = {"entry_id": i, "title": f"t{i}", "reason": "manual", "comment": ""}
        service.emit(session, EventType.flag_opened, f"flag.opened:{i}", data)
    session.commit()
    workers = [OutboxWorker(settings, engine, name=f"w{i}") for i in range(3)]

    def drain(w: OutboxWorker) -> None:
        while w.run_once():
            pass

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ids = Counter(r["body"]["delivery_id"] for r in rx.received)
    assert len(ids) == 40 and max(ids.values()) == 1
    assert {r.status for r in _rows(session)} == {DeliveryStatus.sent}


def test_review_due_and_digest_are_enqueued_once(
    session: Session, engine: Engine, settings: Settings
) -> None:
    add_channel(
        session, "hook", "webhook", ["review.due", "digest.weekly"], url="http://127.0.0.1:9/x"
    )
    monday = datetime(2026, 11, 30, 9, 0, tzinfo=LOCAL_TZ)
    entry = make_entry(session)
    entry.review_due_at = monday - timedelta(days=1)
    session.commit()
    schedule._done.clear()
    schedule.enqueue_due(engine, settings, monday)
    schedule._done.clear()  # a second process has no memory of the first
    schedule.enqueue_due(engine, settings, monday)
    rows = _rows(session)
    assert sorted(r.delivery_key.split("@")[0] for r in rows) == [
        "digest.weekly:2026-W49",
        "review.due:2026-11-30",
    ]
    due = next(r for r in rows if r.event == "review.due")
    assert due.payload["data"]["count"] == 1 and "到期待复审" in due.payload["title"]
    schedule._done.clear()
    schedule.enqueue_due(engine, settings, monday.replace(hour=7))  # before the daily hour
    assert len(_rows(session)) == 2


def test_system_upgrade_sends_one_summary_not_one_per_entry(session: Session) -> None:
    add_channel(session, "hook", "webhook", ["flag.opened"], url="http://127.0.0.1:9/x")
    for i in range(12):
        make_entry(session, title=f"HIS条目{i}", system="HIS")
    make_entry(session, title="受限HIS条目", system="HIS", restricted_departments=["财务科"])
    flagged = workflow.system_upgraded(session, system="HIS", actor="user:admin")
    assert len(flagged) == 13
    (row,) = _rows(session)
    assert row.payload["title"] == "HIS 升级：13 条知识待复核"
    assert "HIS条目0" in row.payload["text"] and "受限HIS条目" not in row.payload["text"]
    assert "另有 3 条" in row.payload["text"]  # 10 listed, 2 more visible, 1 restricted


def test_restricted_entry_goes_out_without_its_title(session: Session) -> None:
    add_channel(session, "hook", "webhook", ["entry.submitted"], url="http://127.0.0.1:9/x")
    entry = make_entry(
        session,
        status=EntryStatus.draft,
        title="财务科专用接口密码",
        restricted_departments=["财务科"],
    )
    workflow.transition(
        session, entry_id=entry.id or 0, action="submit", actor="user:a", principal=SYSTEM
    )
    (row,) = _rows(session)
    assert row.payload["title"] == "待审核：受限条目" and "财务科专用" not in str(row.payload)


def test_reviewer_mailbox_from_cli_gets_submitted_notices(
    session: Session, settings: Settings
) -> None:
    args = ["user", "add", "zhao", "--role", "reviewer", "--password", "s3cret-pass"]
    done = run_kbsvc(settings, *args, "--email", "zhao@hospital.cn")
    assert done.returncode == 0, done.stderr
    bad = run_kbsvc(
        settings, "user", "add", "qian", "--password", "s3cret-pass", "--email", "not an address"
    )
    assert bad.returncode == 2 and "not an e-mail address" in bad.stderr
    add_channel(session, "mail", "email", ["entry.submitted"], audience=True)
    entry = make_entry(session, status=EntryStatus.draft)
    workflow.transition(
        session, entry_id=entry.id or 0, action="submit", actor="user:a", principal=SYSTEM
    )
    (row,) = _rows(session)
    assert row.payload["to"] == ["zhao@hospital.cn"]
