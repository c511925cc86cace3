"""`kbsvc import --capture published` of N synthetic tickets, then searchable (default 20k).

    python -m bench.bench_import [--n 20000] [--batch 1000] [--row-by-row]

Tickets are recombined from the demo tickets (sentences across tickets, departments, numbers,
and patient identifiers in about one ticket in five, so masking has work to do) and written as
one JSONL export. Timed like an operator sees it: the real CLI in a subprocess (`kbsvc import`
with its default batch size, committing per batch, then building the index once), and then one
`kbsvc suggest` to show the tickets are searchable. `--row-by-row` times the old path (each
ticket captured on its own through `capture_ticket`) in-process on the same rows, for the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.evalkb import load_tickets

ROOT = Path(__file__).resolve().parents[1]
_SPLIT = re.compile(r"(?<=[。；;，,])")
_PII = ["患者张伟", "联系电话13812345678", "住院号20240315", "12床", "病人李娜家属"]


def synth_tickets(n: int, seed: int = 11) -> list[dict[str, Any]]:
    """N ticket rows recombined from the demo tickets."""
    rng = random.Random(seed)
    tickets = [t for t in load_tickets() if t.get("solution")]
    pieces = {
        f: [p for t in tickets for p in _SPLIT.split(t.get(f, "")) if p.strip()]
        for f in ("symptom", "cause", "solution")
    }
    depts = sorted({t["department"] for t in tickets})
    rows = []
    for i in range(n):
        t = rng.choice(tickets)
        symptom = t["symptom"] + "".join(rng.sample(pieces["symptom"], 2))
        if rng.random() < 0.2:
            symptom += rng.choice(_PII)
        rows.append(
            {
                "external_id": f"SYN-{i:07d}",
                "title": f"{t['title']}（{rng.choice(depts)}{rng.randint(1, 60)}号）",
                "symptom": symptom,
                "cause": "".join(rng.sample(pieces["cause"], 2)),
                "solution": "".join(rng.sample(pieces["solution"], 2)),
                "workaround": t.get("workaround", ""),
                "system": t["system"],
                "module": t.get("module", ""),
                "department": rng.choice(depts),
                "category": t.get("category", ""),
                "tags": t.get("tags", ""),
                "handler": t.get("handler", ""),
                "opened_at": t.get("opened_at", ""),
                "resolved_at": t.get("resolved_at", ""),
            }
        )
    return rows


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _kbsvc(data_dir: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "KBSVC_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "kbsvc", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"kbsvc {' '.join(args)} failed: {done.stderr[-2000:]}")
    return time.perf_counter() - t0, done.stdout


def row_by_row(rows: list[dict[str, Any]], data_dir: Path) -> float:
    """Seconds for the pre-batch path: each ticket upserted and captured on its own."""
    from sqlmodel import Session

    from kbsvc import db
    from kbsvc.config import Settings
    from kbsvc.entries.capture import capture_ticket
    from kbsvc.entries.models import EntryStatus
    from kbsvc.intake.mapping import Mapping
    from kbsvc.intake.readers import read_table
    from kbsvc.intake.service import parse_table
    from kbsvc.privacy.pii import scrub_ticket_in
    from kbsvc.tickets import service as tickets

    settings = Settings(data_dir=data_dir, _env_file=None)
    eng = db.make_engine(settings)
    db.upgrade(eng)
    blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    table = read_table(blob, "t.jsonl", max_rows=len(rows) + 1)
    parsed, _errors = parse_table(table, Mapping(), source="bench")
    t0 = time.perf_counter()
    with Session(eng) as session:
        for i, p in enumerate(parsed, 1):
            item, _findings = scrub_ticket_in(p.item, settings.privacy)
            ticket, _outcome = tickets.upsert_one(session, item)
            capture_ticket(
                session,
                ticket,
                actor="import:bench",
                status=EntryStatus.published,
                privacy=settings.privacy,
            )
            if i % 200 == 0:
                session.commit()
        session.commit()
    eng.dispose()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--row-by-row", type=int, default=0, help="also time N rows the old way")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kbsvc-import-"))
    rows = synth_tickets(args.n)
    export = write_jsonl(rows, work / "tickets.jsonl")
    print(f"{args.n} tickets, {export.stat().st_size / 1e6:.1f} MB JSONL ({work})", flush=True)
    load0 = os.getloadavg()
    cpu0 = os.times()
    took, out = _kbsvc(work / "data", "import", str(export), "--capture", "published", "--index")
    cpu = os.times()
    # Worker processes' CPU is counted too: they are the import's children, reaped by it.
    child_cpu = (cpu.children_user - cpu0.children_user) + (
        cpu.children_system - cpu0.children_system
    )
    for line in out.strip().splitlines()[-2:]:
        print(line)
    print(
        f"kbsvc import --capture published --index: {took:.1f} s wall, {child_cpu:.1f} s CPU, "
        f"{args.n / took:.0f} tickets/s (import, capture and index build); load average "
        f"{load0[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    q_took, answer = _kbsvc(work / "data", "suggest", rows[0]["symptom"][:30])
    found = rows[0]["title"][:6] in answer
    print(
        f"then searchable: kbsvc suggest answered in {q_took:.1f} s (process start included)"
        f"; first ticket found: {found}"
    )
    per_100k = (took + q_took) * 100_000 / args.n
    print(f"extrapolated to 100k tickets: {per_100k / 60:.1f} min (target ≤ 3 min)")
    if args.row_by_row:
        n = min(args.row_by_row, args.n)
        old = row_by_row(rows[:n], work / "old")
        print(
            f"row by row (capture_ticket per ticket, {n} tickets): {n / old:.0f} tickets/s; "
            f"batched is {(args.n / took) / (n / old):.1f}× faster"
        )


if __name__ == "__main__":
    main()
