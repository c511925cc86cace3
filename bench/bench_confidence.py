"""Ranking and confidence on small, demo and large KBs, two labelled sets, every channel.

    python -m bench.bench_confidence [--json OUT] [--sizes small,demo,large] [--no-e5]

Per KB and configuration the confidence model is fitted on that KB's own linked tickets
(`indexer.calibration.calibrate`, as `kbsvc reindex` does) and then judged on the labelled
sets, which it never saw (see bench/kbs.py for how each set and KB is built).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.kbs import build
from embeddings.base import EmbedderState
from embeddings.factory import make_embedder
from indexer import calibration
from indexer.analyzer import Analyzer, AnalyzerConfig
from indexer.build import build_retriever
from indexer.calibration_model import Calibration
from indexer.retriever import Retriever, RetrieverConfig
from indexer.text import ngram_text
from kbsvc.config import EmbeddingSettings, Settings
from kbsvc.search.engine import embedding_config, retriever_config
from kbsvc.search.eval import Judgment, evaluate
from kbsvc.search.evalrun import PUBLISHED, rank_fn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BASELINE = "BM25 over jieba"
PLAIN = AnalyzerConfig(bigrams=False, fold_synonyms=False, shorthand=False, field_weights={})
SETTINGS = Settings(_env_file=None)
BASE = retriever_config(SETTINGS.search)
LEX = dataclasses.replace(BASE, dense_weight=0.0)
ALONE = dataclasses.replace(BASE, lexical_weight=0.0, dense_weight=1.0)
SCORE = dataclasses.replace(BASE, dense_weight=0.5, method="score")
RRF = dataclasses.replace(BASE, dense_weight=1.0, method="rrf")
# (name, analyzer, backend, retriever config, calibration key)
CONFIGS: list[tuple[str, AnalyzerConfig, str | None, RetrieverConfig, str]] = [
    (BASELINE, PLAIN, None, LEX, "lexical"),
    ("lexical (words + bigrams + shorthand)", AnalyzerConfig(), None, LEX, "lexical"),
    ("LSA alone", AnalyzerConfig(), "lsa", ALONE, "lsa-alone"),
    ("e5 alone", AnalyzerConfig(), "e5", ALONE, "e5-alone"),
    ("lexical + LSA, score w 0.5", AnalyzerConfig(), "lsa", SCORE, "lsa:score"),
    ("lexical + e5, RRF", AnalyzerConfig(), "e5", RRF, "e5:rrf"),
    # The engine's path for backend "lsa+e5": e5 primary, LSA beside it, one RRF.
    ("lexical + LSA + e5, RRF", AnalyzerConfig(), "e5+lsa", RRF, "e5+lsa:rrf"),
]


def _embedder(backend: str) -> Any:
    cfg = dataclasses.replace(embedding_config(EmbeddingSettings()), backend=backend)
    return make_embedder(cfg, preprocess=ngram_text)


class Cached:
    """Wraps a pretrained embedder so each text is embedded once per run (and across runs
    when BENCH_E5_CACHE names a file: our own vectors, written by `save`)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[tuple[str, str], np.ndarray] = {}
        self.path = Path(os.environ["BENCH_E5_CACHE"]) if os.environ.get("BENCH_E5_CACHE") else None
        if self.path is not None and self.path.exists():
            with np.load(self.path, allow_pickle=False) as z:
                keys, vecs = z["keys"], z["vecs"]
            self.cache = {(str(k[0]), str(k[1])): v for k, v in zip(keys, vecs, strict=True)}
        self.model_id, self.dim, self.needs_fit = inner.model_id, inner.dim, False

    def save(self) -> None:
        if self.path is None or not self.cache:
            return
        keys = np.array([[k, t] for k, t in self.cache], dtype=str)
        np.savez(self.path, keys=keys, vecs=np.stack(list(self.cache.values())))

    def encode(self, texts: Sequence[str], kind: str = "passage") -> np.ndarray:
        todo = [t for t in dict.fromkeys(texts) if (kind, t) not in self.cache]
        if todo:
            for t, v in zip(todo, self.inner.encode(todo, kind), strict=True):
                self.cache[(kind, t)] = v
        return (
            np.stack([self.cache[(kind, t)] for t in texts]) if texts else np.zeros((0, self.dim))
        )

    # Pretrained: nothing to fit or persist (the Embedder protocol asks for these).
    def fit(self, corpus: Sequence[str]) -> None:
        pass

    def fit_encode(self, corpus: Sequence[str]) -> np.ndarray:
        return self.encode(corpus)

    def state(self) -> EmbedderState | None:
        return None

    def restore(self, state: EmbedderState) -> None:
        pass


def confidence(
    r: Retriever, cal: Calibration, judgments: Sequence[Judgment], resolve: Any
) -> dict[str, float]:
    right, none_ = [], []
    for j in judgments:
        hits = r.search(j.query, 5, PUBLISHED).hits
        top = cal.rate(r, j.query, hits[:5])[0] if hits else (0.0, "low")
        if not j.relevant:
            none_.append(top[1])
        elif hits and str(hits[0].id) in set().union(*(resolve(x) for x in j.relevant)):
            right.append(top[1])
    return {
        "right_top_confident": float(np.mean([b != "low" for b in right])) if right else 0.0,
        "no_answer_high": float(np.mean([b == "high" for b in none_])) if none_ else 0.0,
        "no_answer_confident": float(np.mean([b != "low" for b in none_])) if none_ else 0.0,
        "right_top": len(right),
        "no_answer": len(none_),
    }


def run(sizes: Sequence[str], e5: bool, only: str = "") -> dict[str, Any]:
    cached = Cached(_embedder("e5")) if e5 else None
    out: dict[str, Any] = {}
    for size in sizes:
        docs, res, sets = build(size)
        resolve = lambda x, res=res: res.get(x, set())  # noqa: E731
        rows = []
        for name, acfg, backend, cfg, key in CONFIGS:
            if only and only not in name and name != BASELINE:
                continue
            names = backend.split("+") if backend else []
            if "e5" in names and cached is None:
                continue
            t0 = time.perf_counter()
            embs: dict[str, Any] = {n: cached if n == "e5" else _embedder(n) for n in names}
            build_cfg = dataclasses.replace(cfg, dense_weight=1.0) if backend else cfg
            r = build_retriever(
                docs,
                Analyzer(config=acfg),
                embs.pop(names[0]) if names else None,
                build_cfg,
                ann_threshold=SETTINGS.search.ann_threshold,
                name=names[0] if names else "dense",
                extra=embs,
            )
            r.config = cfg
            cal = calibration.calibrate(r, docs, key)
            row: dict[str, Any] = {
                "name": name,
                "calibration": {
                    "source": cal.source,
                    "high": round(cal.high, 4),
                    "medium": round(cal.medium, 4),
                    **cal.report,
                },
            }
            for set_name, js in sets.items():
                m = evaluate(js, rank_fn(r), resolve)
                row[set_name] = {
                    **{k: round(m[k], 4) for k in ("mrr@10", "recall@5", "ndcg@10")},
                    **confidence(r, cal, js, resolve),
                }
            row["seconds"] = round(time.perf_counter() - t0, 1)
            rows.append(row)
            print(size, name, {k: row[k] for k in sets}, flush=True)
        if cached is not None:
            cached.save()
        out[size] = {
            "entries": len(docs),
            "queries": {k: len(v) for k, v in sets.items()},
            "rows": rows,
        }
    return out


def print_table(results: dict[str, Any]) -> None:
    for size, data in results.items():
        print(f"\n## {size} KB ({data['entries']} entries; queries {data['queries']})")
        base = {
            s: next(r for r in data["rows"] if r["name"] == BASELINE)[s]["mrr@10"]
            for s in data["queries"]
        }
        for set_name in data["queries"]:
            print(f"\n### {set_name}\n")
            print(
                "| configuration | MRR@10 (× BM25) | R@5 | nDCG@10 | right top confident"
                " | no-answer high | no-answer confident |"
            )
            print("|---|---|---|---|---|---|---|")
            for r in data["rows"]:
                m = r[set_name]
                if "right_top_confident" not in m:
                    conf = "n/a | n/a | n/a"
                elif not m["no_answer"]:  # this set has no no-answer query on this KB
                    conf = f"{m['right_top_confident']:.0%} | – | –"
                else:
                    conf = (
                        f"{m['right_top_confident']:.0%} | {m['no_answer_high']:.0%}"
                        f" | {m['no_answer_confident']:.0%}"
                    )
                print(
                    f"| {r['name']} | {m['mrr@10']:.3f} ({m['mrr@10'] / base[set_name]:.2f})"
                    f" | {m['recall@5']:.3f} | {m['ndcg@10']:.3f} | {conf} |"
                )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sizes", default="small,demo,large")
    ap.add_argument("--no-e5", action="store_true")
    ap.add_argument("--only", default="", help="Only configurations whose name has this.")
    args = ap.parse_args()
    results = run(args.sizes.split(","), e5=not args.no_e5, only=args.only)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
