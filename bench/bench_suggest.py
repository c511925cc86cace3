"""Suggest latency, index build time and RSS at N synthetic entries (default 100k).

    python -m bench.bench_suggest [--n 100000] [--requests 400] [--backend auto]
    python -m bench.bench_suggest --data-dir DIR --reuse --no-http  # a KB built before

Entries are synthesised from the demo tickets (sentences recombined across tickets, systems,
departments and numbers varied) and bulk-inserted into a fresh SQLite database with their
change rows. Build = `SearchEngine.rebuild()` (database read + analysis + embedder fit +
encode + save). In-process: `service.suggest` p50/p99, wall and CPU (process time, which a
loaded host inflates far less), asked by a viewer key as the HTTP clients are. HTTP: a real
uvicorn on 127.0.0.1, concurrency 4, a bounded number of requests. `--reuse` loads the
published index of a data directory this benchmark seeded before instead of building one.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.evalkb import load_queries, load_tickets

ROOT = Path(__file__).resolve().parents[1]
_SPLIT = re.compile(r"(?<=[。；;，,])")


def rss_mb(pid: int | None = None) -> float:
    """Resident set size in MiB (Linux /proc)."""
    path = f"/proc/{pid or 'self'}/status"
    for line in Path(path).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def synth_rows(n: int, seed: int = 7, sources: list[str] | None = None) -> list[dict[str, Any]]:
    """N entry rows recombined from demo ticket sentences (varied, but realistic vocabulary);
    `sources`, when given, receives each row's base ticket id (what the eval labels name)."""
    rng = random.Random(seed)
    tickets = [t for t in load_tickets() if t.get("solution")]
    pieces = {
        f: [p for t in tickets for p in _SPLIT.split(t.get(f, "")) if p.strip()]
        for f in ("symptom", "cause", "solution")
    }
    systems = sorted({t["system"] for t in tickets})
    depts = sorted({t["department"] for t in tickets})
    rows = []
    for i in range(n):
        t = rng.choice(tickets)
        if sources is not None:
            sources.append(t["external_id"])
        rows.append(
            {
                "title": f"{t['title']}（{rng.choice(depts)}{rng.randint(1, 60)}号）",
                "symptom": t["symptom"] + "".join(rng.sample(pieces["symptom"], 2)),
                "cause": "".join(rng.sample(pieces["cause"], 2)),
                "solution": "".join(rng.sample(pieces["solution"], 2)),
                "workaround": t.get("workaround", ""),
                "system": rng.choice(systems) if rng.random() < 0.3 else t["system"],
                "module": t.get("module", ""),
                "department": rng.choice(depts),
                "category": t.get("category", ""),
                "status": "published",
                "version": 1,
                "change_seq": i + 1,
            }
        )
    return rows


def seed_db(settings: Any, rows: list[dict[str, Any]]) -> str:
    """Bulk-insert entries and their change rows; returns a viewer API key."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from kbsvc import db
    from kbsvc.auth import service as auth_service
    from kbsvc.auth.models import Role
    from kbsvc.entries.models import Entry, EntryChange, SequenceCounter
    from kbsvc.timeutil import utcnow

    eng = db.make_engine(settings)
    db.upgrade(eng)
    now = utcnow()
    with Session(eng) as s:
        for i in range(0, len(rows), 5000):
            chunk = [
                dict(
                    r,
                    id=i + j + 1,
                    created_by="bench",
                    updated_by="bench",
                    created_at=now,
                    updated_at=now,
                )
                for j, r in enumerate(rows[i : i + 5000])
            ]
            s.execute(insert(Entry), chunk)
            s.execute(
                insert(EntryChange),
                [
                    {"seq": c["change_seq"], "entry_id": c["id"], "op": "upsert", "at": now}
                    for c in chunk
                ],
            )
        s.execute(insert(SequenceCounter).values(name="entries", value=len(rows)))
        s.commit()
        _row, key = auth_service.create_api_key(s, name="bench", role=Role.viewer)
        s.commit()  # services only flush
    eng.dispose()
    return key


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_bench(
    data_dir: Path, key: str, queries: list[str], requests: int, conc: int, backend: str
) -> dict[str, float]:
    import httpx

    port = free_port()
    env = dict(
        os.environ,
        KBSVC_DATA_DIR=str(data_dir),
        KBSVC_EMBEDDING__BACKEND=backend,
        HF_HUB_OFFLINE="1",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > 600:
                raise RuntimeError("server did not become ready")
            time.sleep(0.5)
        start_s = time.perf_counter() - t0
        headers = {"Authorization": f"Bearer {key}"}
        lat: list[float] = []
        lock = threading.Lock()
        counter = iter(range(requests))

        def worker() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                for i in counter:
                    q = queries[i % len(queries)]
                    t = time.perf_counter()
                    r = c.post("/api/v1/suggest", json={"text": q, "k": 5})
                    r.raise_for_status()
                    with lock:
                        lat.append((time.perf_counter() - t) * 1000)

        with httpx.Client(base_url=base, headers=headers) as c:  # warm-up
            for q in queries[:20]:
                c.post("/api/v1/suggest", json={"text": q, "k": 5})
        wall = time.perf_counter()
        threads = [threading.Thread(target=worker) for _ in range(conc)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - wall
        return {
            "http_p50_ms": pct(lat, 50),
            "http_p99_ms": pct(lat, 99),
            "http_rps": len(lat) / wall,
            "server_rss_mb": rss_mb(proc.pid),
            "server_start_s": start_s,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--backend", default="auto", help="Embedding backend (auto/lsa/sbert/none).")
    ap.add_argument("--data-dir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="Load the data dir's KB and index.")
    ap.add_argument("--no-http", action="store_true", help="In-process figures only.")
    args = ap.parse_args()

    from sqlmodel import Session

    from kbsvc import db
    from kbsvc.auth.models import Principal, Role
    from kbsvc.config import EmbeddingSettings, Settings
    from kbsvc.search import service
    from kbsvc.search.engine import build_search_engine
    from kbsvc.search.models import SuggestRequest

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kbsvc-bench-"))
    settings = Settings(
        data_dir=data_dir, embedding=EmbeddingSettings(backend=args.backend), _env_file=None
    )
    key_file = data_dir / "bench_key.txt"
    if args.reuse:
        key = key_file.read_text().strip()
        eng = db.make_engine(settings)
        search = build_search_engine(settings, eng)
        search.start()  # the published generation, mapped as a server maps it
        print(f"loaded {len(search.retriever.lexical)} entries ({data_dir})")
    else:
        t0 = time.perf_counter()
        key = seed_db(settings, synth_rows(args.n))
        key_file.write_text(key)
        print(f"seeded {args.n} entries in {time.perf_counter() - t0:.1f} s ({data_dir})")
        eng = db.make_engine(settings)
        search = build_search_engine(settings, eng)
        search.analyzer.tokenizer.initialize()
        base_rss = rss_mb()
        t0 = time.perf_counter()
        search.rebuild()
        build_s = time.perf_counter() - t0
        search.ready = True
        print(
            f"index build: {build_s:.1f} s, dense={search.status()['dense']}, "
            f"RSS {rss_mb():.0f} MiB (before build {base_rss:.0f} MiB)"
        )
    queries = [j.query for j in load_queries()]
    viewer = Principal(kind="apikey", name="bench", role=Role.viewer)
    lat, cpu = [], []
    with Session(eng) as s:

        def ask(text: str) -> None:
            req = SuggestRequest(text=text, k=5)
            service.suggest(
                s, search, req, principal=viewer, settings=settings.search, search_log=None
            )

        for q in queries[:20]:
            ask(q)
        for i in range(max(400, len(queries))):
            t, c = time.perf_counter(), time.process_time()
            ask(queries[i % len(queries)])
            cpu.append((time.process_time() - c) * 1000)
            lat.append((time.perf_counter() - t) * 1000)
    print(
        f"in-process suggest: wall p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms; "
        f"CPU p50 {pct(cpu, 50):.2f} ms, p99 {pct(cpu, 99):.2f} ms, "
        f"mean {statistics.fmean(cpu):.2f} ms ({len(lat)} queries, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    eng.dispose()
    if args.no_http:
        return
    http = http_bench(data_dir, key, queries, args.requests, args.concurrency, args.backend)
    print(
        f"HTTP suggest (concurrency {args.concurrency}, {args.requests} requests): "
        f"p50 {http['http_p50_ms']:.2f} ms, p99 {http['http_p99_ms']:.2f} ms, "
        f"{http['http_rps']:.0f} req/s; server RSS {http['server_rss_mb']:.0f} MiB, "
        f"start (index load) {http['server_start_s']:.1f} s"
    )


if __name__ == "__main__":
    main()
