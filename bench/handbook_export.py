"""Time handbook exports on the demo tickets:
python -m bench.handbook_export [--copies N] [--entries 30] [--repeat 3] [--profile].

Builds a throwaway KB (tickets sharing a fault become one entry, the others cite it), optionally
repeated N times to simulate a larger KB, then renders every format: the first PDF in the process
is "cold" (WeasyPrint import, font discovery), later ones "warm" (what the API's export worker
sees). Wall and CPU seconds are both printed: on a shared machine wall time includes waiting.
--profile prints where the PDF's CPU time goes (fonts, QR codes, layout, drawing, PDF writing).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlmodel import Session

from kbsvc import db
from kbsvc.auth.models import SYSTEM
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import EntryCreate, EntryStatus, LinkKind
from kbsvc.handbooks import assemble, export
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


# Where a PDF's time goes: the innermost matching bucket wins (module path fragments).
BUCKETS = {
    "fonts (load, subset)": ("weasyprint/text/fonts", "weasyprint/pdf/fonts", "fontTools"),
    "QR codes": ("handbooks/render/qr", "qrcode/", "PIL/"),
    "layout": ("weasyprint/layout/", "weasyprint/text/line_break", "weasyprint/formatting"),
    "CSS": ("weasyprint/css/", "cssselect2", "tinycss2"),
    "drawing": ("weasyprint/draw/",),
    "PDF writing": ("pydyf", "weasyprint/pdf/"),
}


def buckets(profile: cProfile.Profile) -> dict[str, float]:
    """Own (tottime) seconds per bucket."""
    stats: Any = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    out = dict.fromkeys([*BUCKETS, "other"], 0.0)
    for (path, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.items():
        name = next((b for b, frags in BUCKETS.items() if any(f in path for f in frags)), "other")
        out[name] += tottime
    return out


def timed(fn: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--system", default="")
    parser.add_argument("--entries", type=int, default=30, help="entries in the handbook")
    parser.add_argument("--repeat", type=int, default=3, help="warm PDF renderings")
    parser.add_argument("--profile", action="store_true")
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
            max_entries=args.entries,
            selection=Selection(systems=[args.system] if args.system else []),
        )
        t0 = time.perf_counter()
        doc = assemble.build_adhoc(
            session, data=data, settings=settings, search=search, principal=SYSTEM
        )
        select_s = time.perf_counter() - t0
    print(
        f"KB {total} entries; handbook {doc.entry_count} entries, {len(doc.chapters)} chapters;"
        f" select+group {select_s * 1000:.0f} ms"
    )
    for fmt in ExportFormat:
        body, wall, cpu = timed(lambda: export.render(doc, fmt, settings))  # noqa: B023
        label = f"{fmt.value} (cold)" if fmt is ExportFormat.pdf else fmt.value
        print(f"{label:>10}: {wall:6.2f} s wall {cpu:6.2f} s CPU  {len(body) / 1024:6.0f} KiB")
    warm = [
        timed(lambda: export.render(doc, ExportFormat.pdf, settings)) for _ in range(args.repeat)
    ]
    best = min(warm, key=lambda r: r[2])
    print(
        f"{'pdf (warm)':>10}: {best[1]:6.2f} s wall {best[2]:6.2f} s CPU"
        f"  (best of {args.repeat}; median wall {sorted(w[1] for w in warm)[len(warm) // 2]:.2f} s)"
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(export.render, doc, ExportFormat.pdf, settings)
        for name, seconds in sorted(buckets(profile).items(), key=lambda kv: -kv[1]):
            print(f"  {name:<22} {seconds:6.2f} s")


if __name__ == "__main__":
    main()
