"""The lexical channel alone at N entries: build, memory and query latency, no database.

    python -m bench.bench_lexical [--n 300000] [--queries 500]

The engine's builder (`build_retriever` through `offline_retriever`, backend none: words +
bigrams BM25 with the default analyzer) over N synthetic entries (bench_suggest.synth_rows),
then `Retriever.search(q, 10, published)` for the queries bench_ann uses. This is the ranking
step of suggest without hydration, snippets or the dense channel (bench_ann measures that one).
"""

from __future__ import annotations

import argparse

from threadpoolctl import threadpool_limits

from bench._stats import host_line, latencies_ms, pct, rss_mb, timed
from bench.bench_ann import query_texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300_000)
    ap.add_argument("--queries", type=int, default=500)
    args = ap.parse_args()
    from bench.bench_suggest import synth_rows
    from indexer.analyzer import Analyzer
    from indexer.docs import EntryDoc
    from kbsvc.config import Settings
    from kbsvc.search.engine import retriever_config
    from kbsvc.search.evalrun import PUBLISHED, offline_retriever

    threadpool_limits(1)
    print(f"{host_line()}  {args.n:,} entries, lexical channel only")
    keys = ("title", "symptom", "cause", "solution", "workaround", "system", "module", "department")
    docs = [EntryDoc(id=i + 1, **{k: r[k] for k in keys}) for i, r in enumerate(synth_rows(args.n))]
    settings = Settings(_env_file=None)
    rss0 = rss_mb()
    r, _ = timed(
        f"lexical build {args.n:,} (jieba words + bigrams, compact)",
        lambda: offline_retriever(
            docs, Analyzer(), None, retriever_config(settings.search), settings
        ),
    )
    print(f"RSS +{rss_mb() - rss0:,.0f} MiB for the lexical index; RSS now {rss_mb():,.0f} MiB")
    queries = query_texts(args.queries)
    ms = latencies_ms(lambda i: r.search(queries[i], 10, PUBLISHED), len(queries))
    print(f"{host_line()}")
    print(f"lexical top-10, {len(queries)} queries   {pct(ms)}")


if __name__ == "__main__":
    main()
