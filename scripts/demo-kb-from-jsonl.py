"""Build a small published KB from demo ticket JSONL (handbook screenshots without `kbsvc demo`).

Usage: demo-kb-from-jsonl.py FILE.jsonl... [--system HIS]
Tickets sharing a fault_key become one entry: the first ticket is its source, the others cite it.
Uses the database configured by KBSVC_DATA_DIR / KBSVC_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlmodel import Session  # noqa: E402

from kbsvc import db  # noqa: E402
from kbsvc.config import Settings  # noqa: E402
from kbsvc.entries import service as entries  # noqa: E402
from kbsvc.entries.models import EntryCreate, EntryStatus, LinkKind  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--system", action="append", default=[])
    args = parser.parse_args()
    groups: dict[str, list[dict]] = {}
    for path in args.files:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if args.system and row.get("system") not in args.system:
                continue
            groups.setdefault(row.get("fault_key") or row["external_id"], []).append(row)
    engine = db.make_engine(Settings())
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        for rows in groups.values():
            first = rows[0]
            data = EntryCreate(**{k: first.get(k) or "" for k in (
                "title", "symptom", "cause", "solution", "workaround", "system", "module",
                "department", "category")}, tags=first.get("tags") or [])
            entry = entries.create(session, data=data, actor="demo", status=EntryStatus.published,
                                   commit=False)
            for i, row in enumerate(rows):
                kind = LinkKind.source if i == 0 else LinkKind.cited
                entries.link_ticket(session, entry_id=entry.id or 0, source="demo",
                                    external_id=row["external_id"], kind=kind, actor="demo")
        session.commit()
    print(f"{len(groups)} published entries from {sum(map(len, groups.values()))} tickets")


if __name__ == "__main__":
    main()
