"""Plausible knowledge activity on the demo tickets (entries, citations, search log) for reports."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from kbsvc.analytics.models import SearchKind, SearchLog
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryCreate, EntryLink, EntryStatus, LinkKind
from kbsvc.tickets import service as tickets
from kbsvc.tickets.models import Ticket, TicketIn
from kbsvc.timeutil import utcnow

DATA_DIR = Path(__file__).resolve().parents[1] / "demo" / "data"

# Things staff search for that the demo KB does not answer (clinical-engineering and facilities
# questions reach IT too); repeated so they surface as gap topics.
UNANSWERED = [
    ("手术室无影灯不亮", 9),
    ("无影灯坏了", 6),
    ("无影灯亮度调不了", 4),
    ("停车场道闸抬不起来", 5),
    ("停车场道闸不识别车牌", 3),
    ("输液泵报警一直响", 4),
    ("输液泵通讯中断", 3),
    ("会议室投影仪没信号", 4),
    ("投影仪连不上电脑", 3),
    ("门禁卡刷不开", 3),
    ("食堂饭卡充值失败", 2),
]


def _rows() -> list[dict[str, Any]]:
    out = []
    for path in sorted(DATA_DIR.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return out


def seed(db_engine: Engine, *, seed_value: int = 8, source: str = "demo") -> dict[str, int]:
    """Load the demo tickets if absent, then add entries, links and searches if there are none."""
    rng = random.Random(seed_value)
    rows = _rows()
    with Session(db_engine, expire_on_commit=False) as session:
        if not session.execute(select(func.count()).select_from(Ticket)).scalar_one():
            items = [
                TicketIn.model_validate(
                    {
                        **{k: (v or None) if k.endswith("_at") else v for k, v in r.items()},
                        "source": source,
                    }
                )
                for r in rows
            ]
            tickets.upsert_many(session, items=items)
        if session.execute(select(func.count()).select_from(EntryLink)).scalar_one():
            return {"entries": 0, "links": 0, "searches": 0}
        by_key = {(t.source, t.external_id): t for t in session.execute(select(Ticket)).scalars()}
        fault = {r["external_id"]: r.get("fault_key", r["external_id"]) for r in rows}
        groups: dict[str, list[Ticket]] = {}
        for t in sorted(by_key.values(), key=lambda t: (t.opened_at or t.created_at, t.id)):
            groups.setdefault(fault.get(t.external_id, t.external_id), []).append(t)
        made = links = 0
        queries: list[tuple[str, Ticket, int | None]] = []
        for _key, group in sorted(groups.items()):
            first = group[0]
            # About a fifth of the recurring faults were never written up: the ticket gaps.
            if rng.random() < 0.2:
                queries += [(t.title, t, None) for t in group[:2]]
                continue
            status = (
                EntryStatus.published
                if rng.random() < 0.85
                else rng.choice([EntryStatus.draft, EntryStatus.in_review])
            )
            entry = entries.create(
                session,
                data=EntryCreate(
                    title=first.title,
                    symptom=first.symptom,
                    cause=first.cause,
                    solution=first.solution,
                    workaround=first.workaround,
                    system=first.system,
                    module=first.module,
                    department=first.department,
                    category=first.category,
                    tags=first.tags,
                ),
                actor="demo",
                status=status,
            )
            entries.link_ticket(
                session,
                entry_id=entry.id or 0,
                source=first.source,
                external_id=first.external_id,
                kind=LinkKind.source,
                actor="demo",
            )
            made += 1
            links += 1
            for t in group[1:]:
                month = (t.opened_at or t.created_at).month
                # Reuse grows through the year as engineers learn to search first (KCS).
                if rng.random() < 0.25 + 0.06 * month:
                    entries.link_ticket(
                        session,
                        entry_id=entry.id or 0,
                        source=t.source,
                        external_id=t.external_id,
                        kind=LinkKind.cited,
                        actor="demo",
                    )
                    links += 1
                queries.append((t.symptom[:30] or t.title, t, entry.id))
        session.commit()
        searches = _seed_searches(session, queries, rng)
    return {"entries": made, "links": links, "searches": searches}


def seed_searches(session: Session, *, seed_value: int = 8) -> int:
    """A plausible recent search log for already loaded demo data (`kbsvc demo`); once only."""
    if session.execute(select(func.count()).select_from(SearchLog)).scalar_one():
        return 0
    linked: dict[tuple[str, str], int] = {}
    for lk in session.execute(select(EntryLink)).scalars():
        linked.setdefault((lk.source, lk.external_id), lk.entry_id)
    queries = [
        (t.symptom[:30] or t.title, t, linked.get((t.source, t.external_id)))
        for t in session.execute(select(Ticket).order_by(col(Ticket.id))).scalars()
    ]
    return _seed_searches(session, queries, random.Random(seed_value))


def _seed_searches(
    session: Session, queries: list[tuple[str, Ticket, int | None]], rng: random.Random
) -> int:
    # The log is recent operational data (retention purges old rows), so it ends today.
    rows: list[SearchLog] = []
    now = utcnow()

    def when() -> datetime:
        return now - timedelta(days=rng.uniform(0, 120), minutes=rng.uniform(0, 600))

    for text, t, entry_id in queries:
        answered = entry_id is not None
        rows.append(
            SearchLog(
                id=f"demo{len(rows):028d}",
                at=when(),
                kind=rng.choice(list(SearchKind)),
                query=text,
                filters={"system": t.system},
                result_ids=[entry_id] if entry_id is not None else [],
                result_count=1 if answered else 0,
                top_score=0.8 if answered else None,
                top_confidence=0.8 if answered else None,
                latency_ms=round(rng.uniform(8, 40), 1),
                caller="demo",
            )
        )
    for text, times_searched in UNANSWERED:
        for _ in range(times_searched):
            rows.append(
                SearchLog(
                    id=f"demo{len(rows):028d}",
                    at=when(),
                    kind=SearchKind.suggest,
                    query=text,
                    result_count=0,
                    latency_ms=12.0,
                    caller="demo",
                )
            )
    session.add_all(rows)
    session.commit()
    return len(rows)
