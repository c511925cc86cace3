"""Embedding speed: LSA fit/encode at 100k synthetic tickets vs the bundled MiniLM.

Run: python -m bench.bench_embed [--docs 100000]. Prints figures and same-run ratios.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from bench._stats import host_line, latencies_ms, pct, rss_mb, timed  # noqa: E402
from bench.synth import synthetic_queries, synthetic_tickets  # noqa: E402
from embeddings.lsa import LsaEmbedder  # noqa: E402
from indexer.text import ngram_text  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--minilm-passages", type=int, default=512)
    args = parser.parse_args()
    print(f"{host_line()}  docs: {args.docs}  LSA dim: {args.dim}")
    rss0 = rss_mb()
    docs, _ = timed(f"generate {args.docs} synthetic tickets", lambda: synthetic_tickets(args.docs))
    queries = synthetic_queries(args.queries)
    print(f"mean ticket length: {np.mean([len(d) for d in docs]):.0f} chars")

    lsa = LsaEmbedder(args.dim, preprocess=ngram_text, batch_size=1024)
    _, fit_s = timed(f"LSA fit ({args.docs} docs, char 1-2 grams)", lambda: lsa.fit(docs))
    print(f"LSA vocabulary: {lsa._proj.shape[0]} n-grams, model_id {lsa.model_id}")
    vecs, enc_s = timed(f"LSA encode {args.docs} passages", lambda: lsa.encode(docs))
    lsa_pps = args.docs / enc_s
    print(f"LSA passages/s: {lsa_pps:,.0f}")
    lsa_q = latencies_ms(lambda i: lsa.encode([queries[i]], "query"), args.queries)
    print(f"LSA query encode        {pct(lsa_q)}")
    rss_lsa = rss_mb()
    print(f"RSS after LSA fit + {args.docs} vectors: {rss_lsa:,.0f} MiB (+{rss_lsa - rss0:,.0f})")
    del vecs

    from embeddings.sbert import SentenceTransformerEmbedder

    minilm, _ = timed(
        "MiniLM load (bundled, offline)",
        lambda: SentenceTransformerEmbedder(
            None, query_prompt="", passage_prompt="", batch_size=32
        ),
    )
    mq = latencies_ms(lambda i: minilm.encode([queries[i]], "query"), min(args.queries, 200))
    print(f"MiniLM query encode     {pct(mq)}")
    sample = docs[: args.minilm_passages]
    _, m_s = timed(f"MiniLM encode {len(sample)} passages", lambda: minilm.encode(sample))
    m_pps = len(sample) / m_s
    print(f"MiniLM passages/s: {m_pps:,.0f}  (100k would take {args.docs / m_pps / 60:,.1f} min)")
    print(f"RSS with both loaded: {rss_mb():,.0f} MiB")

    print("\nsame-run ratios")
    print(f"query encode p50, MiniLM / LSA:  {np.median(mq) / np.median(lsa_q):6.1f}x")
    print(f"passages/s, LSA / MiniLM:        {lsa_pps / m_pps:6.1f}x")
    print(
        f"LSA fit on {args.docs} vs MiniLM encode of the same: "
        f"{fit_s:.0f} s vs {args.docs / m_pps:.0f} s (est.)"
    )


if __name__ == "__main__":
    main()
