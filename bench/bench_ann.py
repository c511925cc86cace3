"""The dense channel at hospital-group scale: HNSW over N vectors vs exact search.

    python -m bench.bench_ann [--n 1000000] [--queries 300] [--ef 64 128 256 512]
                              [--vectors clustered|lsa] [--cache DIR]

The engine's `VectorIndex` with its defaults (HNSW past `ann_threshold`, M 32,
efConstruction 40, efSearch 128) at `lsa_dim` (256). Vectors: `clustered` (default) are
bench_vector's embedding-like unit vectors, queries noisy copies of stored ones; `lsa` is
the engine's LSA of synthetic entries' passages (bench_suggest.synth_rows, fitted on the
first `--fit`), queries the labelled eval queries then demo tickets' title + symptom.
Recall@10 is against exact inner-product search (FAISS flat) over the same vectors, for a
top-10 search and for the engine's own call (top 200: Retriever asks 2 × 100 candidates).
Vectors (lsa) and the built index are cached under --cache, so a rerun skips the build.
One thread (FAISS, BLAS), as the engine searches.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from bench._stats import Latencies, host_line, latencies_ms, pct, rss_mb, timed
from indexer.vector import EF_PER_VECTORS, VectorIndex

K = 10
ENGINE_K = 200  # what Retriever.query asks the dense channel for


def passages(n: int) -> list[str]:
    """The dense channel's text of N synthetic entries, as the engine builds it."""
    from bench.bench_suggest import synth_rows
    from indexer.docs import EntryDoc

    keys = ("title", "symptom", "cause", "solution", "workaround", "system", "module")
    return [
        EntryDoc(id=i + 1, **{k: r[k] for k in keys}).passage() for i, r in enumerate(synth_rows(n))
    ]


def query_texts(limit: int) -> list[str]:
    from bench.evalkb import load_queries, load_tickets

    texts = [j.query for j in load_queries()]
    texts += [f"{t['title']} {t.get('symptom', '')}" for t in load_tickets()]
    return texts[:limit]


def lsa_vectors(n: int, fit: int, queries: list[str], cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, query vectors), encoded once and cached as .npy."""
    from embeddings.factory import EmbeddingConfig, make_embedder
    from indexer.text import ngram_text
    from kbsvc.config import EmbeddingSettings

    path = cache / f"lsa-{n}-fit{fit}-q{len(queries)}.npz"
    if path.exists():
        data = np.load(path)
        print(f"vectors loaded from {path}")
        return data["vecs"], data["queries"]
    s = EmbeddingSettings()
    cfg = EmbeddingConfig(**s.model_dump(exclude={"backend"}), backend="lsa")
    emb = make_embedder(cfg, preprocess=ngram_text, backend="lsa")
    assert emb is not None
    texts, _ = timed(f"synthesise {n:,} passages", lambda: passages(n))
    timed(f"LSA fit on {min(fit, n):,} passages", lambda: emb.fit(texts[:fit]))
    vecs = np.empty((n, emb.dim), np.float32)

    def encode() -> None:
        for start in range(0, n, 50_000):
            vecs[start : start + 50_000] = emb.encode(texts[start : start + 50_000])

    timed(f"LSA encode {n:,} passages", encode)
    qv = emb.encode(queries, kind="query")
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, vecs=vecs, queries=qv)
    return vecs, qv


def clustered(n: int, dim: int, nq: int) -> tuple[np.ndarray, np.ndarray]:
    """bench_vector's embedding-like vectors; queries are noisy copies of stored ones."""
    from bench.bench_vector import embedding_like

    vecs, _ = timed(f"clustered vectors {n:,} × {dim}", lambda: embedding_like(n, dim))
    rng = np.random.default_rng(1)
    picks = vecs[rng.integers(0, n, nq)]
    qv = picks + 0.15 * rng.standard_normal(picks.shape).astype(np.float32)
    return vecs, qv / np.linalg.norm(qv, axis=1, keepdims=True)


def hnsw_index(vecs: np.ndarray, cache: Path) -> VectorIndex:
    """The engine's VectorIndex over vecs (HNSW by its defaults), built once and cached."""
    n, dim = vecs.shape
    folder = cache / f"hnsw-{n}x{dim}-{hashlib.sha256(vecs[:1000].tobytes()).hexdigest()[:12]}"
    if (folder / "manifest.json").exists():
        (index, _), _ = timed(
            "HNSW load (verify sha256)",
            lambda: VectorIndex.load(folder, model_id="bench", dim=dim, ann_threshold=50_000),
        )
        return index
    index = VectorIndex(dim, "bench", ann_threshold=50_000)
    rss0 = rss_mb()

    def build() -> None:
        for start in range(0, n, 100_000):  # the first batch passes the threshold → HNSW
            index.add(np.arange(start, min(n, start + 100_000)), vecs[start : start + 100_000])

    timed(f"HNSW build {n:,} × {dim} (M {index.hnsw_m}, efC {index.ef_construction})", build)
    print(f"RSS +{rss_mb() - rss0:,.0f} MiB for the HNSW index ({vecs.nbytes / 2**20:,.0f} raw)")
    index.save(folder, last_seq=n, version="bench")
    return index


def exact(vecs: np.ndarray, qv: np.ndarray, sample: int) -> tuple[np.ndarray, Latencies]:
    """Exact top-K ids of every query (flat inner product) and flat latency on a sample."""
    flat = faiss.IndexFlatIP(vecs.shape[1])
    flat.add(vecs)
    (_, truth), _ = timed(f"exact top-{K} of {len(qv)} queries", lambda: flat.search(qv, K))
    return truth, latencies_ms(lambda i: flat.search(qv[i : i + 1], K), sample)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--fit", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--ef", type=int, nargs="+", default=[64, 128, 256, 512])
    ap.add_argument("--flat-queries", type=int, default=100, help="exact-search latency sample")
    ap.add_argument(
        "--vectors",
        choices=("clustered", "lsa"),
        default="clustered",
        help="clustered: bench_vector's embedding-like vectors (seconds to make); lsa: LSA of "
        "synthetic entries (~4 min CPU more per million to encode)",
    )
    ap.add_argument("--dim", type=int, default=256, help="clustered vectors' width (lsa_dim)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kbsvc-bench")
    args = ap.parse_args()
    threadpool_limits(1)
    faiss.omp_set_num_threads(1)
    print(f"{host_line()}  faiss {faiss.__version__}  {args.n:,} entries")
    if args.vectors == "lsa":
        vecs, qv = lsa_vectors(args.n, args.fit, query_texts(args.queries), args.cache)
    else:
        vecs, qv = clustered(args.n, args.dim, args.queries)
    nq = len(qv)
    truth, flat_ms = exact(vecs, qv, args.flat_queries)
    index = hnsw_index(vecs, args.cache)
    del vecs
    print(f"{host_line()}  RSS {rss_mb():,.0f} MiB  {nq} queries")
    print(f"exact flat top-{K}            {pct(flat_ms)}  ({args.flat_queries} queries)")
    # The engine asks the dense channel for 2 × 100 candidates (Retriever.query), so its
    # efSearch is max(ef_search, 200); recall@10 is of the first ten it returns.
    index.ef_per_vectors = 0  # the sweep sets efSearch itself; the engine's rule comes last
    for ef in args.ef:
        for k in (K, ENGINE_K):
            if k == ENGINE_K and ef < ENGINE_K and ef != min(args.ef):
                continue  # same search as the smallest ef: efSearch is max(ef, k)
            index.ef_search = ef

            def ask(i: int, k: int = k) -> object:
                return index.search(qv[i], k)

            ms = latencies_ms(ask, nq)
            full = [[j for j, _ in index.search(q, k)] for q in qv]
            rec = np.mean(
                [len(set(g[:K]) & set(t.tolist())) / K for g, t in zip(full, truth, strict=True)]
            )
            held = np.mean(
                [len(set(g) & set(t.tolist())) / K for g, t in zip(full, truth, strict=True)]
            )
            print(
                f"HNSW efSearch {max(ef, k):<4} top-{k:<3}  p50 {np.percentile(ms, 50):7.2f} ms  "
                f"p99 {np.percentile(ms, 99):7.2f} ms  CPU p50 {np.percentile(ms.cpu, 50):6.2f} "
                f"p99 {np.percentile(ms.cpu, 99):6.2f} ms  recall@{K} {rec:.3f}"
                + (f" (exact top-{K} among the {k}: {held:.3f})" if k > K else ""),
                flush=True,
            )
    index.ef_per_vectors, index.ef_search = EF_PER_VECTORS, 128
    grown = index.effective_ef(ENGINE_K, len(index))
    ms = latencies_ms(lambda i: index.search(qv[i], ENGINE_K), nq)
    got = [[j for j, _ in index.search(q, ENGINE_K)][:K] for q in qv]
    rec = np.mean([len(set(g) & set(t.tolist())) / K for g, t in zip(got, truth, strict=True)])
    print(
        f"engine default (efSearch grows: {grown}) top-{ENGINE_K}  "
        f"p50 {np.percentile(ms, 50):7.2f} ms  p99 {np.percentile(ms, 99):7.2f} ms  "
        f"CPU p50 {np.percentile(ms.cpu, 50):6.2f} p99 {np.percentile(ms.cpu, 99):6.2f} ms  "
        f"recall@{K} {rec:.3f}",
        flush=True,
    )
    print(f"{host_line()}  done  {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
