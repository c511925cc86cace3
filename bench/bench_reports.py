"""Insight reports over 100k tickets: time each report, the drill-downs behind its cells, the
page and the monthly PDF, and a naive ORM baseline, same run.

Run: python -m bench.bench_reports [--tickets 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import insert, select
from sqlmodel import Session

from kbsvc import db
from kbsvc.analytics import drill, gaps, page, reports
from kbsvc.analytics.demo import _rows
from kbsvc.analytics.models import SearchLog
from kbsvc.analytics.schemas import DrillFilters
from kbsvc.analytics.sqlfn import Period
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries.models import Entry, EntryLink
from kbsvc.tickets.models import Ticket

SUFFIX = ["", "，很急", "，影响病人", "（第二次）", "，重启无效", "，全科室都这样"]


def build(n_tickets: int, path: Path) -> Settings:
    """Bulk-insert tickets, entries, links and a search log into a fresh SQLite file."""
    rng = random.Random(42)
    settings = Settings(data_dir=path, database_url="", _env_file=None)
    engine = db.make_engine(settings)
    db.upgrade(engine)
    demo = _rows()
    # Alias spellings too (心血管内科, 心内, HIS系统): reports group them through the vocabulary.
    depts = sorted({r["department"] for r in demo}) + [f"第{i}病区" for i in range(40)] + [""]
    depts += ["心血管内科", "心内", "呼吸科", "检验中心"]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    tickets, links, entries = [], [], []
    n_entries = n_tickets // 20
    for i in range(n_tickets):
        r = rng.choice(demo)
        opened = start + timedelta(minutes=rng.randrange(0, 730 * 24 * 60))
        resolved = opened + timedelta(hours=rng.lognormvariate(1.2, 1.3))
        tickets.append(
            {
                "source": "bench",
                "external_id": f"B{i:07d}",
                "title": r["title"] + rng.choice(SUFFIX),
                "symptom": r["symptom"],
                "description": "",
                "cause": r["cause"],
                "solution": r["solution"],
                "workaround": "",
                "system": r["system"] + ("系统" if rng.random() < 0.1 else ""),
                "module": r["module"],
                "department": rng.choice(depts),
                "category": r["category"],
                "channel": "",
                "priority": "",
                "handler": r["handler"],
                "opened_at": opened,
                "resolved_at": resolved if rng.random() < 0.97 else None,
                # Six in ten helpdesk rows carry a recorded handling time (工时).
                "handling_minutes": round(rng.lognormvariate(3.2, 0.8))
                if rng.random() < 0.6
                else None,
                "tags": [],
                "raw": {},
                "content_hash": "",
                "created_at": now,
                "updated_at": now,
            }
        )
    for i in range(n_entries):
        r = rng.choice(demo)
        entries.append(
            {
                "id": i + 1,
                "title": r["title"],
                "symptom": r["symptom"],
                "cause": r["cause"],
                "solution": r["solution"],
                "workaround": "",
                "system": r["system"],
                "module": r["module"],
                "department": "",
                "category": r["category"],
                "status": "published" if rng.random() < 0.8 else "draft",
                "version": 1,
                "change_seq": i + 1,
                "created_by": "bench",
                "updated_by": "bench",
                "created_at": now,
                "updated_at": now,
            }
        )
    for i in range(n_tickets):
        roll = rng.random()
        kind = "source" if roll < 0.05 else "cited" if roll < 0.45 else None
        if kind:
            links.append(
                {
                    "entry_id": rng.randrange(1, n_entries + 1),
                    "source": "bench",
                    "external_id": f"B{i:07d}",
                    "kind": kind,
                    "created_by": "bench",
                    "created_at": now,
                }
            )
    queries = [rng.choice(demo)["title"] for _ in range(300)] + ["手术室无影灯不亮", "停车场道闸"]
    log = [
        {
            "id": uuid.uuid4().hex,
            "at": now - timedelta(days=rng.uniform(0, 170)),
            "kind": "search",
            "query": rng.choice(queries),
            "filters": {},
            "result_ids": [],
            "result_count": 0 if rng.random() < 0.1 else 5,
            "top_score": None,
            "top_confidence": rng.random(),
            "latency_ms": 10.0,
            "caller": "bench",
        }
        for _ in range(n_tickets // 2)
    ]
    with engine.begin() as conn:
        for table, rows in (
            (Ticket, tickets),
            (Entry, entries),
            (EntryLink, links),
            (SearchLog, log),
        ):
            for k in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[k : k + 5000])
    engine.dispose()
    return settings


def naive_demand(session: Session) -> tuple[int, int]:
    """The obvious way: load every ticket object and aggregate in Python."""
    cells: Counter[tuple[str, str]] = Counter()
    months: Counter[str] = Counter()
    effort: dict[str, list[float]] = defaultdict(list)
    for t in session.execute(select(Ticket)).scalars():
        cells[(t.department or "未填写科室", t.system)] += 1
        if t.opened_at:
            months[t.opened_at.strftime("%Y-%m")] += 1
        if t.opened_at and t.resolved_at:
            effort[t.system].append((t.resolved_at - t.opened_at).total_seconds() / 3600)
    medians = {k: statistics.median(v) for k, v in effort.items()}
    return len(cells), len(medians)


def naive_reuse(session: Session) -> float:
    linked = {(lk.source, lk.external_id) for lk in session.execute(select(EntryLink)).scalars()}
    resolved = [t for t in session.execute(select(Ticket)).scalars() if t.resolved_at]
    return sum((t.source, t.external_id) in linked for t in resolved) / max(len(resolved), 1)


def timed(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        settings = build(args.tickets, Path(tmp))
        print(
            f"built {args.tickets:,} tickets (+{args.tickets // 20:,} entries, links, "
            f"{args.tickets // 2:,} search-log rows) in {time.perf_counter() - t0:.1f} s"
        )
        engine = db.make_engine(settings)
        year = Period.parse("2025-01-01", "2025-12-31")
        with Session(engine) as s:
            # First gap report in a process also pays for importing scikit-learn and loading
            # jieba's dictionary (one-off per process): shown apart.
            cold = timed(lambda: gaps.gaps(s, Period.parse("2020-01-01", "2020-01-02")), runs=1)
            results = {
                "demand (all time)": timed(lambda: reports.demand(s, Period())),
                "demand (one year)": timed(lambda: reports.demand(s, year)),
                "reuse (all time)": timed(lambda: reports.reuse(s, Period(), principal=SYSTEM)),
                "gaps (all time)": timed(lambda: gaps.gaps(s, Period()), runs=2),
                "gaps (one year)": timed(lambda: gaps.gaps(s, year), runs=2),
                "health": timed(lambda: reports.health(s, Period(), principal=SYSTEM)),
            }
            d = reports.demand(s, year)
            cell = DrillFilters(department=[d.matrix.departments[0]], system=[d.matrix.systems[0]])
            folded = DrillFilters(department=d.matrix.departments[17:], system=d.matrix.systems[:1])
            top = reports.top_entries(s, year, principal=SYSTEM, limit=1)
            drills = {
                "cell": cell,
                "folded 其他科室 cell": folded,
                "month": DrillFilters(month="2025-06"),
                "system effort": DrillFilters(system=[d.effort[0].system], effort=True),
                "entry": DrillFilters(entry=top[0].entry_id),
            }
            for name, f in drills.items():
                results[f"drill: {name}"] = timed(
                    partial(drill.tickets, s, year, f, principal=SYSTEM)
                )
            results["page context + html (one year)"] = timed(
                lambda: page.render_body(page.context(s, year, principal=SYSTEM)), runs=2
            )
            results["monthly PDF (2025-06)"] = timed(
                lambda: page.monthly_pdf(s, "2025-06", principal=SYSTEM), runs=2
            )
            print(
                f"effort basis: {d.effort_basis} ({d.effort_with_handling:,} tickets with a "
                f"handling time); {len(d.matrix.departments)} departments after grouping"
            )
            base_demand = timed(lambda: naive_demand(s), runs=1)
            base_reuse = timed(lambda: naive_reuse(s), runs=1)
        print(f"{'report':<32}{'seconds':>9}  target ≤ 2 s")
        for name, sec in results.items():
            print(f"{name:<32}{sec:>9.3f}  {'ok' if sec <= 2 else 'SLOW'}")
        print(f"one-off per process: first gap report imports/initialises in {cold:.2f} s")
        print(
            f"naive ORM demand  {base_demand:.3f} s → SQL aggregates "
            f"{base_demand / results['demand (all time)']:.1f}× faster"
        )
        print(
            f"naive ORM reuse   {base_reuse:.3f} s → SQL aggregates "
            f"{base_reuse / results['reuse (all time)']:.1f}× faster"
        )
        engine.dispose()


if __name__ == "__main__":
    main()
