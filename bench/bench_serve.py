"""HTTP suggest on the default `kbsvc serve` (one worker per CPU, one shared mapped index).

    python -m bench.bench_serve [--n 100000] [--requests 800] [--data-dir DIR]

Seeds N synthetic entries (bench/bench_suggest.py), times the index build (database read,
analysis, LSA fit + encode, HNSW, publish), starts `kbsvc serve` with no worker option, and
measures POST /api/v1/suggest at concurrency 1, 4 and 16 (p50, p99, req/s), the memory of all
its processes (RSS summed, which counts the shared mapped index once per process, and PSS,
which splits shared pages among them), and write-to-searchable: an entry committed to the
database until every worker's /api/v1/search returns it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.bench_suggest import free_port, pct, seed_db, synth_rows
from bench.evalkb import load_queries
from kbsvc.config import KEY_ROLES

ROOT = Path(__file__).resolve().parents[1]


def tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            children = (
                (task / "children").read_text().split() if (task / "children").exists() else []
            )
            todo += [int(c) for c in children]
    return out


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(RSS summed, PSS summed) in MiB over `pids`."""
    rss = pss = 0.0
    for pid in pids:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("Pss:"):
                pss += int(line.split()[1]) / 1024
    return rss, pss


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds used so far by `pids` (Linux /proc/PID/stat)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def private_mb(pid: int) -> float:
    """Memory only `pid` holds (anonymous: its Python heap), in MiB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ready_workers(base: str, want: int, seconds: float = 1800) -> dict[int, dict[str, Any]]:
    deadline, seen = time.monotonic() + seconds, dict[int, dict[str, Any]]()
    while time.monotonic() < deadline and len(seen) < want:
        try:
            r = httpx.get(f"{base}/readyz", timeout=10)
            if r.status_code == 200:
                seen[int(r.headers["X-Kbsvc-Worker"])] = r.json()["search"]
        except httpx.HTTPError:
            time.sleep(0.5)
    return seen


def load(base: str, key: str, queries: list[str], requests: int, conc: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {key}"}
    lat: list[float] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as c:
            for i in counter:
                t = time.perf_counter()
                r = c.post("/api/v1/suggest", json={"text": queries[i % len(queries)], "k": 5})
                r.raise_for_status()
                with lock:
                    lat.append((time.perf_counter() - t) * 1000)

    wall = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - wall
    return {"p50": pct(lat, 50), "p99": pct(lat, 99), "rps": len(lat) / wall}


def worker_clients(base: str, headers: dict[str, str], workers: set[int]) -> dict[int, Any]:
    """One kept-alive connection per worker: the kernel hands a new connection to whichever
    worker accepts first, so polling on fresh connections can miss one worker for seconds."""
    clients: dict[int, httpx.Client] = {}
    for _ in range(200):
        if set(clients) == workers:
            return clients
        c = httpx.Client(base_url=base, headers=headers, timeout=10)
        pid = int(c.get("/readyz").headers["X-Kbsvc-Worker"])
        if pid in clients:
            c.close()
        else:
            clients[pid] = c
    raise RuntimeError(f"reached workers {sorted(clients)} of {sorted(workers)}")


def write_to_searchable(
    settings: Any, base: str, key: str, workers: set[int], n: int
) -> list[float]:
    """Seconds from an entry's commit until the last worker's search returns it (each worker
    is asked in turn on its own connection)."""
    from sqlmodel import Session

    from kbsvc import db
    from kbsvc.entries import service
    from kbsvc.entries.models import EntryCreate, EntryStatus

    eng = db.make_engine(settings)
    clients = worker_clients(base, {"Authorization": f"Bearer {key}"}, workers)
    out = []
    for i in range(n):
        title = f"基准写入探针{i}号 心电工作站蓝屏{i * 7919}"
        with Session(eng) as s:
            entry = service.create(
                s,
                data=EntryCreate(title=title, symptom=title, solution="重启"),
                actor="bench",
                status=EntryStatus.published,
            )
            s.commit()
            entry_id = entry.id
        t0, waiting = time.perf_counter(), dict(clients)
        while waiting and time.perf_counter() - t0 < 60:
            for pid, c in list(waiting.items()):
                r = c.get("/api/v1/search", params={"q": title})
                assert int(r.headers["X-Kbsvc-Worker"]) == pid  # still the same connection
                if entry_id in [h["entry"]["id"] for h in r.json()["data"]]:
                    del waiting[pid]
        out.append(time.perf_counter() - t0)
    for c in clients.values():
        c.close()
    eng.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=800)
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args()

    from kbsvc import db
    from kbsvc.config import Settings
    from kbsvc.search.engine import build_search_engine

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="kbsvc-bench-serve-"))
    settings = Settings(data_dir=data_dir, _env_file=None)
    t0 = time.perf_counter()
    key = seed_db(settings, synth_rows(args.n))
    print(f"seeded {args.n} entries in {time.perf_counter() - t0:.1f} s ({data_dir})")
    # The build runs in a child so its peak memory is not the server's.
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys,time;from kbsvc import db;from kbsvc.config import "
            "Settings;from kbsvc.search.engine import build_search_engine as b;"
            f"s=Settings(data_dir=r'{data_dir}',_env_file=None);e=b(s,db.make_engine(s));"
            "e.analyzer.tokenizer.initialize();t=time.perf_counter();e.rebuild();"
            "print(f'{time.perf_counter()-t:.1f}')",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"index build (read, analyse, LSA fit + encode, HNSW, publish): {build.stdout.strip()} s")
    _ = (db, build_search_engine)

    port = free_port()
    env = dict(
        os.environ,
        KBSVC_DATA_DIR=str(data_dir),
        HF_HUB_OFFLINE="1",
        KBSVC_RATE_LIMIT__PER_MINUTE="10000000",
        KBSVC_RATE_LIMIT__BURST="1000000",
        KBSVC_RATE_LIMIT__KEYS=json.dumps(
            {r: {"per_minute": 10_000_000, "burst": 1_000_000} for r in KEY_ROLES}
        ),
    )
    env.pop("KBSVC_WORKERS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kbsvc", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        t0 = time.perf_counter()
        n_workers = os.cpu_count() or 1
        workers = ready_workers(base, n_workers)
        print(
            f"{len(workers)} workers ready in {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{pid} {s['role']} {s['generation']}" for pid, s in workers.items())
        )
        queries = [j.query for j in load_queries()]
        load(base, key, queries, 40 * n_workers, n_workers)  # warm every worker
        for conc in (1, 4, 16):
            pids = tree(proc.pid)
            # CPU per request, server and load generator apart: load on a shared host
            # inflates latency far more than it inflates the CPU a request costs.
            server0, client0 = cpu_seconds(pids), time.process_time()
            m = load(base, key, queries, args.requests, conc)
            server = (cpu_seconds(pids) - server0) * 1000 / args.requests
            client = (time.process_time() - client0) * 1000 / args.requests
            rss, pss = memory_mb(pids)
            print(
                f"HTTP suggest c={conc}: p50 {m['p50']:.1f} ms, p99 {m['p99']:.1f} ms, "
                f"{m['rps']:.0f} req/s; CPU per request: server {server:.2f} ms, "
                f"load generator {client:.2f} ms; all processes RSS {rss:.0f} MiB, "
                f"PSS {pss:.0f} MiB (load average {os.getloadavg()[0]:.1f})"
            )
        print(
            "private heap per process (MiB): "
            + ", ".join(f"{pid} {private_mb(pid):.0f}" for pid in tree(proc.pid))
        )
        lat = write_to_searchable(settings, base, key, set(workers), 20)
        print(
            f"write → searchable on every worker: median {statistics.median(lat):.2f} s, "
            f"max {max(lat):.2f} s ({len(lat)} writes)"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
