"""Time handbook exports on the demo tickets: python -m bench.handbook_export [--copies N].

Builds a throwaway KB (tickets sharing a fault become one entry, the others cite it), optionally
repeated N times to simulate a larger KB, then renders every format once and prints the figures.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from kbsvc import db
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryCreate, EntryStatus, LinkKind
from kbsvc.handbooks import export, service
from kbsvc.handbooks.models import ExportFormat, HandbookCreate, Selection
from kbsvc.search.engine import build_search_engine

DATA = Path(__file__).resolve().parents[1] / "kbsvc" / "demo" / "data"
FIELDS = (
    "title",
    "symptom",
    "cause",
    "solution",
    "workaround",
    "system",
    "module",
    "department",
    "category",
)


def load(session: Session, copies: int) -> int:
    groups: dict[str, list[dict]] = {}
    for path in sorted(DATA.glob("tickets_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            groups.setdefault(row.get("fault_key") or row["external_id"], []).append(row)
    n = 0
    for copy in range(copies):
        for rows in groups.values():
            data = EntryCreate.model_validate({k: rows[0].get(k) or "" for k in FIELDS})
            entry = entries.create(session, data=data, actor="bench", status=EntryStatus.published)
            for i, row in enumerate(rows):
                entries.link_ticket(
                    session,
                    entry_id=entry.id or 0,
                    source=f"bench{copy}",
                    external_id=row["external_id"],
                    actor="bench",
                    kind=LinkKind.source if i == 0 else LinkKind.cited,
                )
            n += 1
    session.commit()
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--system", default="HIS")
    args = parser.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), database_url="", _env_file=None)
    engine = db.make_engine(settings)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        total = load(session, args.copies)
    search = build_search_engine(settings, engine)
    search.start()
    with Session(engine, expire_on_commit=False) as session:
        data = HandbookCreate(
            title="医院HIS系统常见故障分析与处理方法",
            max_entries=5000,
            selection=Selection(systems=[args.system] if args.system else []),
        )
        t0 = time.perf_counter()
        doc = service.build_adhoc(
            session, data=data, settings=settings, search=search, principal=SYSTEM
        )
        select_s = time.perf_counter() - t0
    print(
        f"KB {total} entries; handbook {doc.entry_count} entries, {len(doc.chapters)} chapters;"
        f" select+group {select_s * 1000:.0f} ms"
    )
    for fmt in ExportFormat:
        t0 = time.perf_counter()
        body = export.render(doc, fmt, settings)
        print(f"{fmt.value:>4}: {time.perf_counter() - t0:6.2f} s  {len(body) / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
