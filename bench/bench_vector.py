"""Vector index speed at 100k: flat vs HNSW vs numpy brute force, filters, upserts, RSS.

Run: python -m bench.bench_vector [--n 100000] [--dims 256 384] [--hnsw-dims 384].
Prints figures and same-run ratios.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

from bench._stats import Latencies, host_line, latencies_ms, pct, rss_mb, timed
from indexer.vector import VectorIndex


def embedding_like(n: int, dim: int, *, seed: int = 0) -> np.ndarray:
    """Unit vectors with low intrinsic dimension and topic clusters, like real embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((500, 48)).astype(np.float32)
    latent = centres[rng.integers(0, 500, n)] + 0.7 * rng.standard_normal((n, 48))
    proj = rng.standard_normal((48, dim)).astype(np.float32)
    vecs = (latent.astype(np.float32) @ proj) + 0.5 * rng.standard_normal((n, dim))
    vecs = vecs.astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def build(index: VectorIndex, vecs: np.ndarray, batch: int = 10_000) -> None:
    for start in range(0, len(vecs), batch):
        index.add(np.arange(start, start + len(vecs[start : start + batch])), vecs[start:][:batch])


def recall(truth: list[list[int]], got: list[list[int]]) -> float:
    return float(np.mean([len(set(t) & set(g)) / len(t) for t, g in zip(truth, got, strict=True)]))


def bench_flat(vecs: np.ndarray, queries: np.ndarray) -> tuple[Latencies, list[list[int]]]:
    n, dim = vecs.shape
    nq = len(queries)
    rng = np.random.default_rng(2)
    rss0 = rss_mb()
    flat = VectorIndex(dim, "bench", ann_threshold=10**9)
    timed("flat build", lambda: build(flat, vecs))
    print(
        f"RSS +{rss_mb() - rss0:,.0f} MiB for the flat index ({vecs.nbytes / 2**20:,.0f} MiB raw)"
    )

    def numpy_top10(i: int) -> None:
        scores = vecs @ queries[i]
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]

    with threadpool_limits(1):
        np_ms = latencies_ms(numpy_top10, nq)
    flat_ms = latencies_ms(lambda i: flat.search(queries[i], 10), nq)
    truth = [[j for j, _ in flat.search(q, 10)] for q in queries]
    wide = set(rng.choice(n, n // 10, replace=False).tolist())
    narrow = set(rng.choice(n, 2_000, replace=False).tolist())
    wide_ms = latencies_ms(lambda i: flat.search(queries[i], 10, allowed=wide), nq // 3)
    narrow_ms = latencies_ms(lambda i: flat.search(queries[i], 10, allowed=narrow), nq)
    up_ms = latencies_ms(lambda i: flat.add([i], vecs[i : i + 1]), 200)
    flat.search_threads = 2
    two_ms = latencies_ms(lambda i: flat.search(queries[i], 10), nq)
    flat.search_threads = 1
    print(f"numpy brute force top-10      {pct(np_ms)}  (1 BLAS thread)")
    print(f"flat search top-10            {pct(flat_ms)}  (1 OpenMP thread, the default)")
    print(f"flat search, 2 OpenMP threads {pct(two_ms)}")
    print(f"flat, allowed = 10% of ids    {pct(wide_ms)}")
    print(f"flat, allowed = 2,000 ids     {pct(narrow_ms)}")
    print(f"flat single upsert            {pct(up_ms)}")
    with tempfile.TemporaryDirectory() as tmp:
        timed(
            "flat save (write, fsync, sha256)",
            lambda: flat.save(Path(tmp), last_seq=1, version="bench"),
        )
        timed(
            "flat load (verify sha256)",
            lambda: VectorIndex.load(Path(tmp), model_id="bench", dim=dim, ann_threshold=10**9),
        )
    print(
        f"ratio numpy / flat p50: {np.median(np_ms) / np.median(flat_ms):.2f}x wall, "
        f"{np.median(np_ms.cpu) / np.median(flat_ms.cpu):.2f}x CPU"
    )
    print(f"ratio 2 threads / 1 thread p50: {np.median(two_ms) / np.median(flat_ms):.2f}x")
    return flat_ms, truth


def bench_hnsw(
    vecs: np.ndarray, queries: np.ndarray, flat_ms: Latencies, truth: list[list[int]]
) -> None:
    n, dim = vecs.shape
    nq = len(queries)
    rng = np.random.default_rng(3)
    rss0 = rss_mb()
    h = VectorIndex(dim, "bench", ann_threshold=1000)
    timed("HNSW build (M=32, efConstruction=40)", lambda: build(h, vecs))
    print(f"RSS +{rss_mb() - rss0:,.0f} MiB for the HNSW index")
    for ef in (64, 128):  # 128 is the default
        h.ef_search = ef
        h_ms = latencies_ms(lambda i: h.search(queries[i], 10), nq)
        got = [[j for j, _ in h.search(q, 10)] for q in queries]
        print(f"HNSW search top-10, ef {ef:<4}  {pct(h_ms)}  recall@10 {recall(truth, got):.3f}")
        if ef == 128:
            base_ms = h_ms
    h.remove(rng.choice(n, n // 10, replace=False))  # 10 % tombstones, below the rebuild ratio
    tomb_ms = latencies_ms(lambda i: h.search(queries[i], 10), nq)
    narrow = set(rng.choice(n, 2_000, replace=False).tolist())
    narrow_ms = latencies_ms(lambda i: h.search(queries[i], 10, allowed=narrow), nq)
    up_ms = latencies_ms(lambda i: h.add([i], vecs[i : i + 1]), 100)
    print(f"HNSW, 10% tombstones          {pct(tomb_ms)}")
    print(f"HNSW, allowed = 2,000 ids     {pct(narrow_ms)}  (exact scan of stored vectors)")
    print(f"HNSW single upsert            {pct(up_ms)}")
    print(
        f"ratio flat / HNSW p50: {np.median(flat_ms) / np.median(base_ms):.1f}x wall, "
        f"{np.median(flat_ms.cpu) / np.median(base_ms.cpu):.1f}x CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[256, 384])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--hnsw-dims", type=int, nargs="*", default=[384])
    args = parser.parse_args()
    print(f"{host_line()}  faiss {faiss.__version__}  RSS at start {rss_mb():,.0f} MiB")
    for dim in args.dims:
        print(f"\n=== {args.n:,} x {dim} ===")
        vecs = embedding_like(args.n, dim)
        rng = np.random.default_rng(1)
        picks = vecs[rng.integers(0, args.n, args.queries)]
        queries = picks + 0.15 * rng.standard_normal(picks.shape).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        flat_ms, truth = bench_flat(vecs, queries)
        if dim in args.hnsw_dims:
            bench_hnsw(vecs, queries, flat_ms, truth)
        print(f"RSS now {rss_mb():,.0f} MiB")


if __name__ == "__main__":
    main()
