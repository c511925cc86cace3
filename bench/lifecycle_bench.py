"""Duplicate-scan latency and PII masking throughput over the demo tickets (prints figures).

Run: python -m bench.lifecycle_bench [--copies N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from kbsvc import db
from kbsvc.auth.models import SYSTEM
from kbsvc.config import PrivacySettings, Settings
from kbsvc.entries.duplicates import find_duplicates
from kbsvc.entries.models import Entry, EntryStatus
from kbsvc.privacy.pii import scrub_ticket_fields

DATA = Path(__file__).resolve().parents[1] / "kbsvc" / "demo" / "data"
FIELDS = ("title", "symptom", "cause", "solution", "system", "module", "department", "category")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=10, help="copies of the demo set to load")
    args = parser.parse_args()
    rows = [
        json.loads(line)
        for f in sorted(DATA.glob("tickets_*.jsonl"))
        for line in f.read_text("utf-8").splitlines()
        if line.strip()
    ]

    privacy = PrivacySettings()
    start = time.perf_counter()
    for row in rows:
        scrub_ticket_fields(row, privacy)
    per_ticket = (time.perf_counter() - start) / len(rows) * 1000
    print(f"pii: {len(rows)} tickets, {per_ticket:.3f} ms per ticket")

    settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url="")
    engine = db.make_engine(settings)
    db.upgrade(engine)
    with Session(engine) as session:
        for copy in range(args.copies):
            for row in rows:
                data = {k: str(row.get(k) or "") for k in FIELDS}
                data["title"] = (data["title"] or "无标题")[:290] + ("" if not copy else f" {copy}")
                session.add(Entry.model_validate({**data, "status": EntryStatus.published}))
        session.commit()
        total = len(rows) * args.copies
        timings = []
        for row in rows[:100]:
            t0 = time.perf_counter()
            find_duplicates(session, row, principal=SYSTEM)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        print(
            f"duplicates: pool {total} published entries, "
            f"median {statistics.median(timings):.1f} ms, p95 {timings[94]:.1f} ms"
        )
        hits = sum(1 for row in rows[:100] if find_duplicates(session, row, k=1, principal=SYSTEM))
        print(f"duplicates: {hits}/100 demo tickets found an existing entry (each is in the pool)")


if __name__ == "__main__":
    main()
