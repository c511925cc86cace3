"""Abbreviations and pinyin: MRR with query shorthand off and on, same KB, same run.

    python -m bench.bench_shorthand [--json OUT]

Sets: bench/eval/queries_shorthand.jsonl (queries typed with yb/mz/emr/pinyin) and the
labelled sets A and B (plain Chinese; shorthand must not hurt them). KB: the demo's
one-entry-per-fault-family KB with linked tickets' text.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from bench.evalkb import ROOT, family_kb, load_queries, load_tickets
from indexer.analyzer import Analyzer, AnalyzerConfig
from kbsvc.config import Settings
from kbsvc.search.engine import retriever_config
from kbsvc.search.eval import evaluate, load_judgments
from kbsvc.search.evalrun import offline_retriever, rank_fn

SHORTHAND = ROOT / "bench/eval/queries_shorthand.jsonl"
ANALYZERS = {
    "bm25-jieba": AnalyzerConfig(bigrams=False, fold_synonyms=False, field_weights={}),
    "words+bigrams": AnalyzerConfig(),
}


def run() -> dict[str, Any]:
    settings = Settings(_env_file=None)
    lexical = dataclasses.replace(retriever_config(settings.search), dense_weight=0.0)
    docs, res = family_kb(load_tickets())
    sets = {"shorthand": load_judgments(SHORTHAND), "A+B": load_queries()}
    rows = []
    for name, acfg in ANALYZERS.items():
        for on in (False, True):
            analyzer = Analyzer(config=dataclasses.replace(acfg, shorthand=on))
            r = offline_retriever(docs, analyzer, None, lexical, settings)
            row: dict[str, Any] = {"analyzer": name, "expand": on}
            for set_name, judgments in sets.items():
                m = evaluate(judgments, rank_fn(r), lambda x: res.get(x, set()))
                row[set_name] = {k: round(m[k], 3) for k in ("mrr@10", "recall@5", "ndcg@10")}
            rows.append(row)
    return {"entries": len(docs), "queries": {k: len(v) for k, v in sets.items()}, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    out = run()
    print(f"KB {out['entries']} entries; queries {out['queries']}")
    print("| analyzer | shorthand | shorthand MRR@10 | R@5 | A+B MRR@10 | R@5 |")
    print("|---|---|---|---|---|---|")
    for r in out["rows"]:
        s, ab = r["shorthand"], r["A+B"]
        print(
            f"| {r['analyzer']} | {'on' if r['expand'] else 'off'} | {s['mrr@10']:.3f}"
            f" | {s['recall@5']:.3f} | {ab['mrr@10']:.3f} | {ab['recall@5']:.3f} |"
        )
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
