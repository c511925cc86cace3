"""Retrieval quality on the labelled eval set: every configuration, same run, vs BM25-jieba.

    python -m bench.bench_quality [--json OUT] [--no-sbert]

KBs: "family" = one published entry per fault family with the family's other tickets linked
(what `kbsvc demo` builds), indexed with linked tickets' text ("learning from use") or without;
"ticket" = one entry per ticket, no links. Queries: bench/eval/queries_*.jsonl.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.evalkb import family_kb, load_queries, load_tickets, ticket_kb
from indexer.analyzer import Analyzer, AnalyzerConfig
from indexer.retriever import RetrieverConfig
from kbsvc.config import Settings
from kbsvc.search.engine import retriever_config
from kbsvc.search.eval import Judgment, evaluate
from kbsvc.search.evalrun import offline_retriever, rank_fn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BASELINE = "bm25-jieba"
SETTINGS = Settings(_env_file=None)
BASE = retriever_config(SETTINGS.search)

ANALYZERS = {
    # Plain BM25 over jieba words: no synonym folding, no bigrams, all fields weight 1.
    BASELINE: AnalyzerConfig(bigrams=False, fold_synonyms=False, field_weights={}),
    "bm25-jieba+syn+fields": AnalyzerConfig(bigrams=False),
    "bm25-bigrams": AnalyzerConfig(words=False),
    "bm25-words+bigrams": AnalyzerConfig(),
}


def configurations(sbert: bool) -> list[tuple[str, str, str | None, RetrieverConfig]]:
    """(name, analyzer, embedding backend, retriever config)."""
    lex = dataclasses.replace(BASE, dense_weight=0.0)
    rows: list[tuple[str, str, str | None, RetrieverConfig]] = [
        (name, name, None, lex) for name in ANALYZERS
    ]
    full = "bm25-words+bigrams"
    backends = ["lsa", "sbert"] if sbert else ["lsa"]
    for backend in backends:
        rows.append(
            (
                f"{backend} dense only",
                full,
                backend,
                dataclasses.replace(BASE, lexical_weight=0.0, dense_weight=1.0),
            )
        )
        for w in (0.25, 0.5, 1.0):
            rows.append(
                (
                    f"words+bigrams + {backend} (score, w={w})",
                    full,
                    backend,
                    dataclasses.replace(BASE, dense_weight=w, method="score"),
                )
            )
        for w in (0.5, 1.0):
            rows.append(
                (
                    f"words+bigrams + {backend} (rrf, w={w})",
                    full,
                    backend,
                    dataclasses.replace(BASE, dense_weight=w, method="rrf"),
                )
            )
    return rows


def per_kind(judgments: list[Judgment], rank: Any, resolve: Any) -> dict[str, float]:
    groups: dict[str, list[Judgment]] = defaultdict(list)
    for j in judgments:
        groups[j.kind].append(j)
    return {k: evaluate(v, rank, resolve)["mrr@10"] for k, v in sorted(groups.items()) if k}


def run(sbert: bool = True) -> dict[str, Any]:
    tickets, queries = load_tickets(), load_queries()
    kbs = {
        "family+use": (family_kb(tickets), True),
        "family, no use": (family_kb(tickets), False),
        "ticket": (ticket_kb(tickets), True),
    }
    results: dict[str, Any] = {"kbs": {}, "queries": len(queries)}
    for kb_name, ((docs, res), learn) in kbs.items():
        resolve = lambda x, res=res: res.get(x, set())  # noqa: E731
        rows = []
        built: dict[tuple[str, str | None], Any] = {}
        for name, analyzer, backend, cfg in configurations(sbert):
            cfg = dataclasses.replace(cfg, learn_from_use=learn)
            t0 = time.perf_counter()
            # One build per (analyzer, backend): weights and fusion only matter at query time.
            r = built.get((analyzer, backend))
            if r is None:
                build_cfg = dataclasses.replace(cfg, dense_weight=1.0) if backend else cfg
                analyzer_ = Analyzer(config=ANALYZERS[analyzer])
                r = offline_retriever(docs, analyzer_, backend, build_cfg, SETTINGS)
                built[(analyzer, backend)] = r
            r.config = cfg
            rank = rank_fn(r)
            metrics = evaluate(queries, rank, resolve)
            rows.append(
                {
                    "name": name,
                    **metrics,
                    "by_kind": per_kind(queries, rank, resolve),
                    "seconds": round(time.perf_counter() - t0, 2),
                }
            )
        base = next(r for r in rows if r["name"] == BASELINE)["mrr@10"]
        for row in rows:
            row["ratio"] = row["mrr@10"] / base if base else 0.0
        results["kbs"][kb_name] = {"entries": len(docs), "rows": rows}
    return results


def print_table(results: dict[str, Any]) -> None:
    for kb, data in results["kbs"].items():
        print(f"\n## KB: {kb} ({data['entries']} entries, {results['queries']} queries)")
        print("| configuration | MRR@10 | nDCG@10 | R@5 | R@10 | P@5 | × BM25-jieba |")
        print("|---|---|---|---|---|---|---|")
        for r in data["rows"]:
            print(
                f"| {r['name']} | {r['mrr@10']:.3f} | {r['ndcg@10']:.3f} | {r['recall@5']:.3f}"
                f" | {r['recall@10']:.3f} | {r['p@5']:.3f} | {r['ratio']:.2f} |"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--no-sbert", action="store_true", help="Skip the MiniLM configurations.")
    args = ap.parse_args()
    results = run(sbert=not args.no_sbert)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
